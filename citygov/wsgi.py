import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygov.settings.dev")

application = get_wsgi_application()

# Import every view now (the URLconf loads lazily on the first request), then move everything
# loaded at start-up out of the collector's reach: it lives as long as the process anyway, and
# without this each full collection walks its ~200,000 objects again. A 10,000-reading batch
# triggers a few of them: 71 ms of its ~170 ms Python CPU went to the collector, 9 ms after
# freezing (docs/PERFORMANCE.md, "Sensor readings").
get_resolver().url_patterns  # noqa: B018 - evaluated for its imports
gc.freeze()
