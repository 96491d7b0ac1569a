"""What the dispatch model reads from a report: jieba words, character n-grams, source and place.

A report is a plain dict (`Report`), so the same features serve training rows read from history,
the catalogue's names and keywords, and a free-text request to the suggest API.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TypedDict

import jieba
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

jieba.setLogLevel(60)  # jieba prints its dictionary loading to stderr otherwise

# Noise the words should not learn from: numbers, latin letters (device ids, confidences), punctuation.
_NOISE = re.compile(r"[0-9０-９a-zA-Z.%℃μ³·:：,，。!！?？;；、（）()【】\[\]\"“”'‘’\-—_/\\#*~\s]+")


class Report(TypedDict):
    text: str
    source: str
    district: str
    street: str


def clean(text: str) -> str:
    return _NOISE.sub(" ", text or "").strip()


# Function words: never shown as the words that drove a suggestion.
STOPWORDS = frozenset("的了是在有和也都就还很又被把给让这那个里上下说要我你他她们着过吧啊呢吗一不没")


def words(text: str) -> list[str]:
    """jieba's words of the cleaned text (its dictionary ships in the package: nothing is downloaded)."""
    return list(_words(clean(text)))


@lru_cache(maxsize=400_000)
def _words(cleaned: str) -> tuple[str, ...]:
    # Training fits the same texts several times (held-out fit, calibration folds, final fit).
    return tuple(w for w in jieba.lcut(cleaned) if w.strip())


def _texts(reports: list[Report]) -> list[str]:
    return [clean(r["text"]) for r in reports]


def _raw_texts(reports: list[Report]) -> list[str]:
    return [r["text"] for r in reports]


def _context(reports: list[Report]) -> list[dict[str, float]]:
    return [
        {f"source={r['source']}": 1.0, f"district={r['district']}": 1.0, f"street={r['street']}": 1.0} for r in reports
    ]


def feature_union(min_df: int = 1) -> FeatureUnion:
    """jieba words (TF-IDF, sublinear) ∪ character 1–3-grams (char_wb) ∪ source and place one-hot."""
    return FeatureUnion(
        [
            (
                "words",
                Pipeline(
                    [
                        ("text", FunctionTransformer(_raw_texts)),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                tokenizer=words,
                                lowercase=False,
                                token_pattern=None,
                                ngram_range=(1, 2),
                                min_df=min_df,
                                sublinear_tf=True,
                            ),
                        ),
                    ]
                ),
            ),
            (
                "chars",
                Pipeline(
                    [
                        ("text", FunctionTransformer(_texts)),
                        (
                            "tfidf",
                            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=min_df, sublinear_tf=True),
                        ),
                    ]
                ),
            ),
            ("context", Pipeline([("dicts", FunctionTransformer(_context)), ("onehot", DictVectorizer())])),
        ],
        transformer_weights={"words": 1.0, "chars": 1.0, "context": 0.3},
    )
