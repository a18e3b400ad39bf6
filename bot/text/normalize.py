"""Text normalisation shared by retrieval, the classifier and the engine.

Reps type Traditional or Simplified Chinese, full-width or half-width characters, and English in any
case; everything that compares text goes through here first so that those differences never matter.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


_PUNCT = re.compile(r"[\s\u3000`~!@#$%^&*()_+\-=\[\]{};':\"\\|,.<>/?，。！？；：、“”‘’（）【】《》〈〉「」『』…—·～]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC t2s); other scripts pass through."""
    if not _CJK.search(text):
        return text
    converted: str = _t2s().convert(text)
    return converted


@lru_cache(maxsize=1)
def _tw2sp() -> opencc.OpenCC:
    return opencc.OpenCC("tw2sp")


def to_simplified_phrases(text: str) -> str:
    """Traditional → Simplified with Taiwan phrases (軟體 → 软件, 意味著 → 意味着); Simplified passes unchanged.

    Character conversion alone leaves 著 and Taiwan words, which cue matching (the classifier) misses;
    text that is already Simplified is returned as it is, so mainland wording is never rewritten.
    """
    if not _CJK.search(text) or to_simplified(text) == text:
        return text
    converted: str = _tw2sp().convert(text)
    return converted


def fold(text: str) -> str:
    """Full-width → half-width (NFKC), Traditional → Simplified, lower case, stripped."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower().strip()


def fold_phrases(text: str) -> str:
    """fold(to_simplified_phrases(text)), with one OpenCC pass fewer for Simplified text (most questions).

    to_simplified_phrases() already converted the text to find it unchanged; when NFKC changes nothing
    either, fold()'s own conversion would convert the very same string again, so its result is reused.
    """
    if not _CJK.search(text):
        return fold(text)
    simplified = to_simplified(text)
    if simplified != text:
        return fold(_tw2sp().convert(text))
    if unicodedata.normalize("NFKC", text) != text:
        return fold(text)
    return simplified.lower().strip()


def squash(text: str) -> str:
    """fold() and punctuation/whitespace collapsed to single spaces."""
    return _PUNCT.sub(" ", fold(text)).strip()


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
