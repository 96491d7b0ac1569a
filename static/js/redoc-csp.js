/*
 * Lets the vendored ReDoc bundle run under the product's Content-Security-Policy.
 * Loaded right before the bundle, with the page's nonce on its <script> tag.
 *
 * - The bundle inserts some CSS (its scrollbar styles) when it loads, before ReDoc's own
 *   `nonce` option is read: every <style> element created on this page gets the nonce.
 * - ReDoc always shows a Redocly logo from its CDN; the product makes no third-party
 *   requests, so that one image becomes an empty local image instead of a blocked load.
 */
(function () {
  "use strict";
  var nonce = document.currentScript && document.currentScript.nonce;
  var EMPTY_GIF = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==";
  var CDN = "https://cdn.redoc.ly/";
  function local(src) {
    return String(src).indexOf(CDN) === 0 ? EMPTY_GIF : src;
  }
  var create = document.createElement.bind(document);
  document.createElement = function (tagName, options) {
    var element = create(tagName, options);
    if (nonce && String(tagName).toLowerCase() === "style") {
      element.nonce = nonce;
    }
    return element;
  };
  // React may set an image's src as a property or as an attribute: catch both.
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      src.set.call(this, local(value));
    },
  });
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src") {
      value = local(value);
    }
    return setAttribute.call(this, name, value);
  };
})();
