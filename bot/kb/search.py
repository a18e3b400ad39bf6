"""Retrieval for /ask: rank knowledge entries for a rep's free-text question.

Reps type two characters ("太贵"), a whole story ("我昨天去见了一个客户,他一直说我们价格太高了…"),
English, Traditional Chinese, with typos. No single scorer serves all of these, so each entry takes the
score of its best title/alias under three complementary measures:

* whole-string likeness (rapidfuzz ratio, counted only when high): the question *is* an alias, give
  or take a typo;
* containment of the shorter side in the longer, weighted by how rare its n-grams are (CJK characters
  and bigrams, letter trigrams of English words, IDF over entries): an alias inside a long story, or
  a short question inside an alias, whatever the word order;
* the same by characters (partial_ratio, cubed so only a near-complete match counts): containment
  that survives a typo.

Containment is damped by the size of the shorter side, so that two shared characters ("太贵" inside
"太贵了", fine; "客户" inside anything, not) cannot pass for a full match. A share of how much of the
question the whole entry (title, aliases, tags, body) covers is added; it separates near-ties and
lets a body word rescue a question no alias foresaw.

Both sides are normalised the same way first (bot.text.normalize, then the synonyms and fillers of
knowledge/retrieval.yaml). A compliance guard puts the compliance entry first whenever the question
asks for something unethical (kickbacks, gifts that sway, false claims, fear, no receipts).

The index is built once per knowledge base. A search scores in detail only the few dozen keys that
share the rarest n-grams with the question (inverted index) or look almost the same, which keeps it
well under the 2 ms goal on a laptop.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add
from types import MappingProxyType

from rapidfuzz import fuzz, process

from bot.kb.models import LANGS, Entry, KnowledgeBase, Lang, RetrievalConfig
from bot.text.normalize import fold_phrases, has_cjk, squash

#: A hit at or above this score is an answer; below it the bot should say it is not sure.
CONFIDENT_SCORE = 55.0
#: Two hits closer than this are a toss-up: neither is confident, the bot offers both.
AMBIGUOUS_MARGIN = 3.0
#: Hits below this score are not returned at all (they are noise).
MIN_SCORE = 25.0
#: Score given to a compliance entry the guard puts first (if its own score is lower).
GUARD_SCORE = 90.0
#: Longer questions are cut (after normalisation) so a pasted essay cannot slow the bot down.
MAX_QUERY_CHARS = 200
#: How many keys (by n-gram overlap) are scored in detail, plus how many by whole-string likeness.
CANDIDATE_KEYS = 32
TYPO_CANDIDATES = 8

# Weights of the key sources: aliases and titles are what reps type; the id words are a fallback.
_TITLE_WEIGHT = 1.0
_ALIAS_WEIGHT = 1.0
_ID_WEIGHT = 0.9
# Share of the entry-level coverage in the final score (the rest is the best key's similarity).
_DOC_SHARE = 0.3
# Body text counts less than titles and aliases in the entry-level coverage.
_BODY_GRAM_WEIGHT = 0.35
_TAG_GRAM_WEIGHT = 0.6

# fuzz.ratio below this counts for nothing in _similarity.
_RATIO_FLOOR = 40.0
# Least fuzz.ratio for a key to be a typo candidate; a key whose length alone keeps it from this is not
# handed to rapidfuzz (with a margin: 2·shorter/(sum of lengths) must reach _TYPO_LENGTH_SHARE).
_TYPO_CUTOFF = 60
_TYPO_LENGTH_SHARE = 55  # percent, below the 60 % a ratio of _TYPO_CUTOFF needs

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SPACE_NEAR_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])")
_PLACEHOLDER_BASE = 0xE000  # private-use characters mask protected words during filler removal


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked entry: score 0–100 and the text that matched.

    `confident`: the score is high enough and no neighbouring hit is within AMBIGUOUS_MARGIN, so the
    bot may answer with this entry alone; `guarded`: put first by the compliance guard.
    """

    entry_id: str
    score: float
    matched: str
    confident: bool
    guarded: bool = False


# --------------------------------------------------------------------------- normalisation


def _stem(word: str) -> str:
    """Very light English stemming (plurals) so 'questions' finds 'question'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _alternation(phrases: Iterable[str], words: bool) -> re.Pattern[str] | None:
    """One regex matching any phrase, longest first; whole words only for English."""
    unique = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not unique:
        return None
    body = "|".join(re.escape(p) for p in unique)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])" if words else f"(?:{body})")


class Normalizer:
    """Turns questions and aliases into the comparable form for one language.

    Why one object per language: Chinese fillers are removed anywhere in the text (there are no spaces
    to anchor on), English ones only as whole words; synonyms and protected words differ too.
    """

    def __init__(self, config: RetrievalConfig, lang: Lang) -> None:
        self.lang = lang
        words = lang == "en"
        self._finish: Callable[[str], str] = self._words_en if words else self._words_zh
        canonical: dict[str, str] = {}
        for group in config.synonyms.get(lang):
            folded = [self._prepare(p) for p in group]
            for phrase in folded[1:]:
                canonical.setdefault(phrase, folded[0])
        self._canonical: Mapping[str, str] = MappingProxyType(canonical)
        self._synonyms = _alternation(canonical, words)
        protected = [self._prepare(p) for p in config.protect.get(lang)]
        self._protected = tuple(p for p in protected if p)
        self._protect = _alternation(self._protected, words)
        self._fillers = _alternation((self._prepare(p) for p in config.fillers.get(lang)), words)

    @staticmethod
    def _words_zh(squashed: str) -> str:
        return _SPACE_NEAR_CJK.sub("", squashed)

    @staticmethod
    def _words_en(squashed: str) -> str:
        return " ".join(_stem(w) for w in squashed.replace("’", "'").split())

    def _prepare(self, text: str) -> str:
        return self._finish(squash(text))

    def plain(self, text: str) -> str:
        """Folded and punctuation-free, without synonym or filler processing (used by the guard)."""
        return self._prepare(text)

    def plain_squashed(self, squashed: str) -> str:
        """plain() of a text already passed through squash(): a search squashes the question once
        for both languages' plain forms and the comparable form (squash runs OpenCC, the costly part)."""
        return self._finish(squashed)

    def __call__(self, text: str) -> str:
        """The comparable form: folded, synonyms made canonical, fillers dropped."""
        return self.canonical(self._prepare(text))

    def canonical(self, plain: str) -> str:
        """The comparable form of a plain() text: synonyms made canonical, fillers dropped."""
        out = plain
        if self._synonyms is not None:
            out = self._synonyms.sub(lambda m: self._canonical[m.group(0)], out)
        if self._fillers is not None:
            masks: dict[str, str] = {}
            if self._protect is not None:

                def mask(match: re.Match[str]) -> str:
                    key = chr(_PLACEHOLDER_BASE + len(masks))
                    masks[key] = match.group(0)
                    return key

                out = self._protect.sub(mask, out)
            out = self._fillers.sub(" ", out)
            for key, word in masks.items():
                out = out.replace(key, word)
        out = " ".join(out.split())
        return out if self.lang == "en" else _SPACE_NEAR_CJK.sub("", out)


def grams(text: str) -> list[str]:
    """The n-grams both sides are indexed by: CJK characters and character bigrams (bigrams carry
    word order, characters survive a typo or a word boundary), and letter trigrams of each Latin word
    (padded, so short words still count)."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    for word in _LATIN_WORD.findall(text):
        padded = f"<{word}>"
        out.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return out


def _length_factor(text: str) -> float:
    """How much a match on `text` can be trusted by its size alone (CJK characters count ~2.5×)."""
    size = len(_CJK_RUN.sub("", text).replace(" ", "")) / 2.5 + sum(len(r) for r in _CJK_RUN.findall(text))
    if size >= 4:
        return 1.0
    if size >= 3:
        return 0.9
    if size >= 2:
        return 0.75
    return 0.45


def _fold_query(query: str) -> str:
    """A question folded for matching, cut to a sane length. Traditional input is converted with
    Taiwan phrases (資訊 → 信息, 專案 → 项目), not only character by character."""
    return fold_phrases(query[: MAX_QUERY_CHARS * 2])


def query_lang(text: str) -> Lang:
    """The language a question is matched (and answered) in: Chinese if it has any CJK character."""
    return "zh" if has_cjk(text) else "en"


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True, slots=True)
class _Key:
    """One searchable phrasing of an entry (title, alias or id words), pre-normalised."""

    entry: int
    norm: str
    shown: str
    weight: float
    grams: frozenset[str]
    info: float  # Σ idf of its n-grams: how much it says
    factor: float  # _length_factor(norm)
    size: int  # len(norm), read on every comparison


class _LangIndex:
    """Keys, n-gram postings, IDF and entry documents of one language.

    Plain dicts and tuples on purpose: they are private to the index, never changed after __init__,
    and much faster to read than read-only proxies in the hot loop.
    """

    def __init__(self, entries: Sequence[Entry], lang: Lang, normalize: Normalizer) -> None:
        raw_keys: dict[tuple[int, str], tuple[str, float]] = {}
        doc_weights: list[dict[str, float]] = []
        for position, entry in enumerate(entries):
            sources: list[tuple[str, float]] = [(entry.title_in(lang), _TITLE_WEIGHT)]
            sources += [(alias, _ALIAS_WEIGHT) for alias in entry.aliases_in(lang)]
            if lang == "en":
                sources.append((entry.id.replace(".", " ").replace("_", " "), _ID_WEIGHT))
            weights = dict.fromkeys(grams(normalize(entry.body_in(lang))), _BODY_GRAM_WEIGHT)
            for gram in grams(normalize(" ".join(entry.tags))):
                weights[gram] = max(weights.get(gram, 0.0), _TAG_GRAM_WEIGHT)
            for text, weight in sources:
                # An alias made only of fillers ("what can you do for me") is kept whole, as the
                # same question is when it is asked.
                norm = normalize(text) or normalize.plain(text)
                if not norm:
                    continue
                weights.update(dict.fromkeys(grams(norm), 1.0))
                previous = raw_keys.get((position, norm))
                if previous is None or previous[1] < weight:
                    raw_keys[(position, norm)] = (text, weight)
            doc_weights.append(weights)
        count = max(len(entries), 1)
        df: dict[str, int] = defaultdict(int)
        for weights in doc_weights:
            for gram in weights:
                df[gram] += 1
        self.idf: dict[str, float] = {g: math.log(1 + count / n) for g, n in df.items()}
        self.unknown_idf = math.log(1 + count)
        self.docs: tuple[dict[str, float], ...] = tuple(doc_weights)
        # weight × idf of each entry gram, multiplied once here rather than on every search.
        self.doc_idf: tuple[dict[str, float], ...] = tuple(
            {g: w * self.idf[g] for g, w in weights.items()} for weights in doc_weights
        )
        self.doc_grams: tuple[frozenset[str], ...] = tuple(frozenset(w) for w in doc_weights)
        keys = []
        for (position, norm), (shown, weight) in raw_keys.items():
            key_grams = frozenset(grams(norm))
            info = sum(self.idf[g] for g in key_grams)
            keys.append(_Key(position, norm, shown, weight, key_grams, info, _length_factor(norm), len(norm)))
        self.keys: tuple[_Key, ...] = tuple(keys)
        self.norms: tuple[str, ...] = tuple(k.norm for k in self.keys)
        self.longest = max((len(n) for n in self.norms), default=0)
        # The keys again, shortest first (ties in key order), so that the typo search can hand
        # rapidfuzz only the keys whose length allows a close match (a slice, not a filtered list).
        by_length = sorted(range(len(self.norms)), key=lambda i: len(self.norms[i]))
        self.by_length: tuple[int, ...] = tuple(by_length)
        self.norms_by_length: tuple[str, ...] = tuple(self.norms[i] for i in by_length)
        self.lengths: tuple[int, ...] = tuple(len(n) for n in self.norms_by_length)
        postings: dict[str, list[int]] = defaultdict(list)
        for index, key in enumerate(self.keys):
            for gram in key.grams:
                postings[gram].append(index)
        self.postings: dict[str, tuple[int, ...]] = {g: tuple(ix) for g, ix in postings.items()}
        # Grams in more keys than this are only used to find candidates if the question has nothing rarer.
        self.common = max(32, len(self.keys) // 25)


def _similarity(
    query: str,
    q_factor: float,
    q_info: float,
    key: _Key,
    shared: float,
    parts: dict[str, float] | None = None,
) -> float:
    """How well one key matches the (normalised) question, 0–100; `parts` receives the components.

    Runs for every candidate key of every search, hence written out branch by branch (same arithmetic).
    """
    cover_key = shared / key.info if key.info else 0.0  # how much of the alias is in the question
    cover_query = shared / q_info  # how much of the question the alias explains
    len_q, len_k = len(query), key.size  # a key is never empty
    # Containment of the shorter side in the longer, weighted by how rare its n-grams are …
    if len_q <= len_k:
        short_len, short_factor, short_cover = len_q, q_factor, cover_query
        size_bonus = 0.8 + 0.2 * len_q / len_k
    else:
        short_len, short_factor, short_cover = len_k, key.factor, cover_key
        size_bonus = 0.8 + 0.2 * len_k / len_q
    contain = 100.0 * short_cover * short_factor * size_bonus
    # Whole-string similarity only means something when high: half the characters in common is noise.
    # (Below the cutoff rapidfuzz returns 0, which this clamps to 0 all the same, and it stops early.)
    # It cannot exceed 2·shorter/(sum of lengths); when even that cannot beat `contain`, it is not needed.
    if parts is None and 200.0 * short_len / (len_q + len_k) < _RATIO_FLOOR + 0.6 * contain - 1e-6:
        ratio = 0.0
    else:
        ratio = max(0.0, fuzz.ratio(query, key.norm, score_cutoff=_RATIO_FLOOR) - _RATIO_FLOOR) / 0.6
    best = ratio if ratio >= contain else contain  # max(ratio, contain), without the call
    # … and the same by characters (tolerates a typo), trusted only when nearly complete. It is the
    # costly one, so it is skipped when it cannot win.
    ceiling = 100.0 * short_factor * size_bonus
    fuzzy_contain = 0.0
    if parts is not None:
        fuzzy_contain = ceiling * (fuzz.partial_ratio(query, key.norm) / 100.0) ** 3
    elif ceiling > best:
        # Only a partial ratio above this can beat `best`; rapidfuzz skips alignments that cannot reach
        # it and returns 0 below it (then `best` wins, as it would have). The margin keeps every value
        # that could matter computed exactly, whatever the rounding of the cube root.
        cutoff = 100.0 * (best / ceiling) ** (1.0 / 3.0) - 1e-6 if best > 0.0 else 0.0
        fuzzy_contain = ceiling * (fuzz.partial_ratio(query, key.norm, score_cutoff=cutoff) / 100.0) ** 3
    if parts is not None:
        parts.update(
            ratio=ratio,
            contain=contain,
            fuzzy_contain=fuzzy_contain,
            cover_key=cover_key,
            cover_query=cover_query,
        )
    return max(best, fuzzy_contain) * key.weight


@dataclass(frozen=True, slots=True)
class _Rule:
    entry: str
    pattern: re.Pattern[str]


def _guard_pattern(phrase: str, lang: Lang, prepare: Normalizer) -> str:
    parts = [re.escape(prepare.plain(part)) for part in phrase.split("*")]
    if lang == "zh":
        return ".{0,8}?".join(parts)
    return r"(?<![a-z0-9])" + r"(?:\s+\S+){0,4}?\s+".join(parts) + r"(?![a-z0-9])"


def _guard_literal(phrase: str, prepare: Normalizer) -> str:
    """A piece of text any match of the phrase's pattern contains (its longest part), '' if none."""
    return max((prepare.plain(part) for part in phrase.split("*")), key=len)


class KnowledgeIndex:
    """Search over one knowledge base; build once, query many times (read-only, so thread-safe)."""

    def __init__(self, kb: KnowledgeBase, config: RetrievalConfig | None = None) -> None:
        """`config` defaults to the base's own (knowledge/retrieval.yaml, as loaded with it)."""
        self.kb = kb
        self.config = config if config is not None else kb.retrieval
        self._entries: tuple[Entry, ...] = kb.entries
        self._positions: Mapping[str, int] = MappingProxyType({e.id: i for i, e in enumerate(kb.entries)})
        self._normalizers: Mapping[Lang, Normalizer] = MappingProxyType(
            {lang: Normalizer(self.config, lang) for lang in LANGS}
        )
        self._indexes: Mapping[Lang, _LangIndex] = MappingProxyType(
            {lang: _LangIndex(self._entries, lang, self._normalizers[lang]) for lang in LANGS}
        )
        rules: dict[Lang, list[_Rule]] = {"zh": [], "en": []}
        literals: dict[Lang, list[str]] = {"zh": [], "en": []}
        for rule in self.config.compliance:
            if rule.entry not in kb:
                continue
            for lang in LANGS:
                phrases = [p for p in rule.patterns.get(lang) if p.strip("*")]
                if phrases:
                    alternatives = "|".join(_guard_pattern(p, lang, self._normalizers[lang]) for p in phrases)
                    rules[lang].append(_Rule(rule.entry, re.compile(alternatives)))
                    literals[lang] += (_guard_literal(p, self._normalizers[lang]) for p in phrases)
        self._rules: Mapping[Lang, tuple[_Rule, ...]] = MappingProxyType(
            {lang: tuple(r) for lang, r in rules.items()}
        )
        # Nearly no question trips the guard: one search for the pieces every rule's match must contain
        # tells so, instead of every rule's own search. A phrase without such a piece (only possible with
        # an odd config) means the rules always run.
        self._guard_hints: Mapping[Lang, re.Pattern[str] | None] = MappingProxyType(
            {
                lang: None if "" in found else _alternation(found, words=False)
                for lang, found in literals.items()
            }
        )

    def normalize(self, text: str, lang: Lang | None = None) -> str:
        """The comparable form of a text (exposed for tests and for trainers debugging an alias)."""
        return self._normalizers[lang or query_lang(text)](text)

    # ----------------------------------------------------------------------- scoring

    def _guarded(self, text: str) -> list[tuple[str, str]]:
        """(entry id, matched phrase) of every compliance rule the question trips, in rule order."""
        squashed = squash(text)
        return self._guarded_plain({lang: self._normalizers[lang].plain_squashed(squashed) for lang in LANGS})

    def _guarded_plain(self, plains: Mapping[Lang, str]) -> list[tuple[str, str]]:
        """_guarded() of a question given as its plain() form in each language."""
        found: list[tuple[str, str]] = []
        for lang in LANGS:
            plain = plains[lang]
            hint = self._guard_hints[lang]
            if hint is not None and hint.search(plain) is None:
                continue
            for rule in self._rules[lang]:
                match = rule.pattern.search(plain)
                if match and all(entry != rule.entry for entry, _ in found):
                    found.append((rule.entry, match.group(0)))
        return found

    def _candidates(self, index: _LangIndex, query: str, known: list[str]) -> set[int]:
        """Keys worth scoring: most n-gram weight in common, plus near-identical strings (typos)."""
        idf, postings = index.idf, index.postings
        # overlap[key] = Σ idf of the question's grams it has, summed rarest first. The update runs in
        # C (dict.get/add/zip, one gram's keys at a time; no key is twice in a posting list), which a
        # Python loop per posting cannot match on common grams.
        overlap: dict[int, float] = {}
        get = overlap.get
        for rank, gram in enumerate(known):  # rarest first
            keys = postings.get(gram)
            if keys is None or (rank >= 3 and len(keys) > index.common):  # None: a gram of bodies only
                continue
            overlap.update(zip(keys, map(add, map(get, keys, repeat(0.0)), repeat(idf[gram])), strict=True))
        # sorted(…, reverse=True)[:n] is what heapq.nlargest returns, ties included (first seen first),
        # but sorts in C instead of looping in Python over every key seen.
        candidates = set(sorted(overlap, key=overlap.__getitem__, reverse=True)[:CANDIDATE_KEYS])
        size = len(query)
        if size <= 2 * index.longest:
            # Only keys of a length that allows a ratio of _TYPO_CUTOFF: 2·min/(size + length) ≥ 60 %.
            lengths = index.lengths
            share = _TYPO_LENGTH_SHARE
            low = bisect_left(lengths, -(-share * size // (200 - share)))
            high = bisect_right(lengths, (200 - share) * size // share)
            found = process.extract(
                query, index.norms_by_length[low:high], scorer=fuzz.ratio, limit=None, score_cutoff=_TYPO_CUTOFF
            )
            # Best first, ties in key order, as process.extract over all keys returns them.
            by_length = index.by_length
            typos = sorted((-score, by_length[low + i]) for _, score, i in found)
            candidates.update(key_index for _, key_index in typos[:TYPO_CANDIDATES])
        return candidates

    def _scores(self, query: str, lang: Lang, keep: int) -> dict[int, tuple[float, str]]:
        """entry position → (score, matched text); complete for the best `keep` entries."""
        index = self._indexes[lang]
        idf = index.idf
        idf_of = idf.__getitem__  # sums below use map() over the same sets as before: same order, same float
        q_grams = set(grams(query))
        if not q_grams:
            return {}
        known = sorted(filter(idf.__contains__, q_grams), key=idf_of, reverse=True)
        q_known = frozenset(known)
        q_info = sum(map(idf.get, q_grams, repeat(index.unknown_idf)))
        q_factor = _length_factor(query)

        best: dict[int, tuple[float, str]] = {}
        keys = index.keys
        for key_index in self._candidates(index, query, known):
            key = keys[key_index]
            shared = sum(map(idf_of, q_known & key.grams))
            sim = _similarity(query, q_factor, q_info, key, shared)
            current = best.get(key.entry)
            if current is None or sim > current[0]:
                best[key.entry] = (sim, key.shown)

        # A little of how much of the question the whole entry (body included) covers breaks ties.
        # Entries are visited best key first; once even a full bonus cannot lift one into the top
        # `keep`, the rest cannot either.
        doc_share = _DOC_SHARE * 100.0 * q_factor / q_info
        max_bonus = doc_share * sum(map(idf_of, q_known))
        doc_idf, doc_grams = index.doc_idf, index.doc_grams
        scored: dict[int, tuple[float, str]] = {}
        top: list[float] = []
        for position, (sim, shown) in sorted(best.items(), key=lambda item: -item[1][0]):
            base = (1 - _DOC_SHARE) * sim
            if len(top) >= keep and base + max_bonus < top[0]:
                break
            bonus = sum(map(doc_idf[position].__getitem__, q_known & doc_grams[position]))
            score = min(100.0, base + doc_share * bonus)
            scored[position] = (score, shown)
            if len(top) < keep:
                heapq.heappush(top, score)
            elif score > top[0]:
                heapq.heapreplace(top, score)
        return scored

    def explain(self, query: str, entry_id: str) -> list[dict[str, object]]:
        """Why an entry scores what it does for a question: each of its keys with the score parts.

        For trainers and tests tuning aliases; not used when answering.
        """
        text = _fold_query(query)
        lang = query_lang(text)
        normalized = self._normalizers[lang](text)[:MAX_QUERY_CHARS]
        index = self._indexes[lang]
        q_grams = set(grams(normalized))
        q_known = frozenset(g for g in q_grams if g in index.idf)
        q_info = sum(index.idf.get(g, index.unknown_idf) for g in q_grams) or 1.0
        rows: list[dict[str, object]] = []
        for key in index.keys:
            if self._entries[key.entry].id != entry_id:
                continue
            parts: dict[str, float] = {}
            shared = sum(index.idf[g] for g in q_known & key.grams)
            sim = _similarity(normalized, _length_factor(normalized), q_info, key, shared, parts)
            rows.append(
                {
                    "key": key.norm,
                    "shown": key.shown,
                    "sim": round(sim, 1),
                    **{k: round(v, 2) for k, v in parts.items()},
                }
            )
        return sorted(rows, key=lambda row: -float(str(row["sim"])))

    # ----------------------------------------------------------------------- public API

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        """The best `limit` entries for a question, best first (compliance guard first if tripped)."""
        if limit <= 0 or not query or not query.strip():
            return []
        text = _fold_query(query)
        lang = query_lang(text)
        normalizer = self._normalizers[lang]
        # The question is squashed once: the plain forms the guard reads and the comparable form all
        # start from it.
        squashed = squash(text)
        plains = {code: self._normalizers[code].plain_squashed(squashed) for code in LANGS}
        plain = plains[lang]
        normalized = normalizer.canonical(plain)[:MAX_QUERY_CHARS] or plain[:MAX_QUERY_CHARS]
        guarded = self._guarded_plain(plains)
        scored = self._scores(normalized, lang, limit + len(guarded)) if normalized else {}

        hits: list[Hit] = []
        for entry_id, phrase in guarded:
            position = self._positions[entry_id]
            own = scored.pop(position, (0.0, phrase))[0]
            hits.append(Hit(entry_id, round(max(own, GUARD_SCORE), 1), phrase, True, guarded=True))
        # What heapq.nsmallest returns (its documented equivalent), sorted in C; positions make keys unique.
        ranked = sorted(scored.items(), key=lambda item: (-item[1][0], item[0]))[: limit + 1]
        scores = [score for _, (score, _) in ranked]
        for rank, (position, (score, shown)) in enumerate(ranked[:limit]):
            if score < MIN_SCORE:
                break
            neighbours = scores[max(rank - 1, 0) : rank] + scores[rank + 1 : rank + 2]
            clear = all(abs(score - other) >= AMBIGUOUS_MARGIN for other in neighbours)
            hits.append(
                Hit(self._entries[position].id, round(score, 1), shown, score >= CONFIDENT_SCORE and clear)
            )
        return hits[:limit]

    def best(self, query: str) -> Hit | None:
        """The top hit if it is confident, else None (the bot then offers the top three)."""
        hits = self.search(query, limit=2)
        return hits[0] if hits and hits[0].confident else None
