"""Text primitives shared by ingestion and ranking: normalise, tokenise, stem, split, languages."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources

import snowballstemmer

_PUNCT = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "\u200b": "",
    }
)
# Words keep inner dots and apostrophes ("node.js", "web3.py", "python's"); hyphens split.
_TOKEN = re.compile(r"[^\W_]+(?:[.'][^\W_]+)*")
# from the start of a word only: without the look-behind the engine retries at every letter
_COMPOUND = re.compile(r"(?<![^\W_])[^\W_]+(?:[.'][^\W_]+)*(?:-[^\W_]+(?:[.'][^\W_]+)*)+")
# the space after . ! ? (and any closing quote or bracket, which stays with its sentence)
_SENTENCE = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"')\]])|(?<=[.!?][\"')\]]{2}))\s+(?=[\"'(\[]?[A-Z0-9])"
)
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Dr|Mr|Mrs|Ms|St|No|approx|incl)\.$", re.IGNORECASE)

# Removed everywhere: words that carry no topic. Kept deliberately small — unlike
# scikit-learn's "english" list it keeps words such as "system", "full", "how" and "why".
STOP_WORDS = frozenset(
    """a an the and or but nor if of to in on at by for from with as into onto than then so
    is are was were be been being am do does did doing done have has had having
    i me my mine we us our ours you your yours he him his she her hers it its they them their
    theirs this that these those there here will would shall should can could may might must
    not no yes very just also too about tell please s t ll re ve d m some any own same such
    let lets let's i'm i've it's that's what's there's i'll i'd you're you'll you'd you've
    he'll he'd she'll she'd it'll we're we'll we'd we've they're they'll they'd they've
    that'll there'll who'll
    between among through during again off under down instead rather
    ok okay hi hey hello thanks thank yeah yep sorry wonder wondering curious""".split()
)

# Norwegian function words, so that a Norwegian question's topic words stand out.
NORWEGIAN_STOP_WORDS = frozenset(
    """og er det som på med av til ikke en et den de vi jeg du dere har kan skal vil fra om
    eller seg sin sitt sine din dine ditt mitt mine min oss noe også bare etter ut alle å
    blir være var dette disse meg deg hos enn slik nok ser kommer får gjør går bør må
    dere deres vår våre sånn mellom så man hvis mot uten før gjennom ved noen ingen hver
    blant innen selv da nå ha hatt litt fortell forklar vennligst gi gir ga gitt
    egen eget egne hei hallo takk ja nei lurer lure fremfor framfor istedenfor istedet
    stedet""".split()
)
STOP_WORDS = STOP_WORDS | NORWEGIAN_STOP_WORDS

# Grammar words that are not in STOP_WORDS because the article uses some of them ("first",
# "still", "once"): a question's word from this list that the corpus does not know is
# grammar, not a topic the article lacks ("Have you done *anything* in fintech?", "Hva
# *gjorde* dere for ...?"). Closed-class English words (pronouns, quantifiers,
# conjunctions, adverbs of time and degree) and the forms of Norwegian auxiliary verbs.
GRAMMAR_WORDS = frozenset(
    """above across after afterwards against all almost alone along already although always
    amongst anybody anyhow anyone anything anyway anywhere around because before behind
    below beside besides beyond both cannot each either elsewhere enough even ever every
    everybody everyone everything everywhere except few further hence however itself
    latter least less meanwhile moreover mostly myself namely neither never nevertheless
    nobody none nothing now nowhere often once only others otherwise ourselves perhaps per
    quite really since several somebody somehow someone something sometime
    sometimes somewhere still stuff themselves thereby therefore though throughout thus
    together toward towards until upon via whatever whenever whereas wherever
    while whoever whole within without yet yourself yourselves actually basically
    gjorde gjort gjøre fikk fått få gikk gått gå kom kommet komme ble blitt bli hadde
    vært kunne skulle ville måtte burde han hun ham henne hans hennes dem der
    aldri alltid ofte allerede fortsatt ennå igjen veldig men fordi mens inn opp ned
    over bak foran hele alt annet""".split()
)

# Asking what the text as a whole is about: "What is this article about?", "tl;dr",
# "summarize the post", "Hva handler artikkelen om?" (Answerer: its lead paragraph). Only in
# a question with no topic of its own: "What is Django about?" asks about Django.
SUMMARY_WORDS = frozenset(
    """about summary summarize summarise summarised gist overview tldr tl dr oppsummer
    oppsummere oppsummering sammendrag handler""".split()
)

# Kept in the index (they help question-to-question matching) but never count as the
# topic of a question: "how does it work?" has no content word (nor "summarize the post").
QUESTION_WORDS = frozenset(
    """what which who whom whose when where why how whether way ways thing things
    kind kinds type types use used using uses good best better well much many more most
    other another else one ones way get got make makes made know need want like over
    hva hvordan hvorfor hvilke hvilken hvilket hvem når hvor mer mest flere andre annen
    mange mye slags type typer bruk lage god gode
    explain explained describe vs versus give show question questions spørsmål
    say says said article articles post blog text mention mentions mentioned talk talks
    discuss discusses cover covers write writes wrote written
    site website page webpage nettsiden nettside
    sier si artikkelen artikkel artikler innlegget innlegg teksten nevner nevnt skriver""".split()
) | (SUMMARY_WORDS - STOP_WORDS)

# The question words proper: they ask "when?", "which?", "how?". In a passage's prose the
# same words join clauses ("When evaluating backend technologies, ...", "which is excellent
# for ..."), so they match the curated questions but hardly the passages (Index.search).
INTERROGATIVES = frozenset(
    """what which who whom whose when where why how whether
    hva hvordan hvorfor hvilke hvilken hvilket hvem når hvor""".split()
)

# A question that compares named things ("How does Node.js differ from Python?", "django vs
# flask", "Is Node.js a better pick for chat?", "Er Python bedre enn Java?") wants a passage
# that compares (Index.comparing); CONTRAST_WORDS mark a passage, or one of its questions,
# that weighs one thing against another. "different" is no contrast: Snowball stems it as
# "differ", and "different backend stacks" compares nothing.
COMPARING_WORDS = frozenset(
    """compare compared compares comparing comparison differ differs difference differences
    vs versus than instead better worse sammenlign sammenligne sammenlignet sammenlignes
    sammenligning forskjell forskjellen forskjellene enn fremfor framfor istedenfor bedre
    dårligere verre""".split()
)
CONTRAST_WORDS = frozenset(
    """than better worse compared comparison unlike whereas however versus vs excels
    outperform outperforms instead rather enn bedre dårligere derimot""".split()
)
_CONTRAST = re.compile(r"\b(?:" + "|".join(sorted(CONTRAST_WORDS)) + r")\b")


def contrasts(text: str) -> bool:
    """Whether a text weighs one thing against another (has one of CONTRAST_WORDS; "than"
    is a stop word, so this reads the text itself, not the index's words)."""
    return _CONTRAST.search(text.lower()) is not None  # 3x faster than re.IGNORECASE


# A chat box's spellings of function words: contractions typed without (or with) their
# apostrophe and phone shorthand, read as the words they stand for, so that "why doesnt
# python scale" or "can u explain django" are not refused for an unknown word "doesnt"/"u".
# Questions only (Index.parse); a negation is dropped like the stop word it then is.
CHAT_FORMS = {
    **dict.fromkeys(["wat", "wut", "wot", "whats", "what's"], "what"),
    **{f"{w}s": w for w in ("how", "who", "where", "why", "when", "which")},
    **{f"{w}'s": w for w in ("how", "who", "where", "why", "when", "which")},
    **dict.fromkeys(["u", "ya"], "you"),
    "ur": "your",
    **dict.fromkeys(["pls", "plz", "plez"], "please"),
    "abt": "about",
    **dict.fromkeys(["gud", "gd"], "good"),
    **dict.fromkeys(["bc", "cuz", "coz", "cos"], "because"),
    **dict.fromkeys(["thx", "tx", "tnx", "ty", "thanx"], "thanks"),
    **dict.fromkeys(["im", "ive", "i'd"], "i"),  # not "id": an ID
    **dict.fromkeys(["youre", "you're", "youve", "you've"], "you"),
    **dict.fromkeys(["theyre", "they're"], "they"),
    **dict.fromkeys(["we're", "weve", "we've"], "we"),  # not "were": a word of its own
    **dict.fromkeys(["thats", "theres", "heres"], "that"),
    **{
        f"{verb}{end}": verb
        for verb in ("do", "does", "did", "is", "are", "was", "were", "has", "have", "had")
        for end in ("nt", "n't")
    },
    **dict.fromkeys(["cant", "can't", "cannot"], "can"),
    **dict.fromkeys(["couldnt", "couldn't"], "could"),
    **dict.fromkeys(["wouldnt", "wouldn't"], "would"),
    **dict.fromkeys(["shouldnt", "shouldn't"], "should"),
    **dict.fromkeys(["wont", "won't"], "will"),
}

_STEMMER = snowballstemmer.stemmer("english")


def _degree_forms() -> dict[str, str]:
    """English comparatives and superlatives -> their adjective (smaller -> small), from
    degree_forms.txt (written by scripts/degree-forms)."""
    text = resources.files("assistant").joinpath("degree_forms.txt").read_text("utf-8")
    return dict(line.split(" ", 1) for line in text.splitlines() if line and line[0] != "#")


_DEGREE = _degree_forms()
# Snowball stems these to another word of other meaning ("customers" -> "custom", as in
# "custom stacks"): kept apart
_OVERSTEMMED = {"customer": "customer", "customers": "customer", "customer's": "customer"}
_STEM_CACHE: dict[str, str] = {}
_NB_STEMMER = snowballstemmer.stemmer("norwegian")


def normalize(text: str) -> str:
    """Unicode-normalise, straighten quotes and dashes, collapse white space."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.translate(_PUNCT).split())


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of already normalised text, possessive 's removed."""
    tokens = _TOKEN.findall(text.lower())
    if "'" not in text:
        return tokens
    out = []
    for tok in tokens:
        if "'" in tok:
            tok = (tok[:-2] if tok.endswith("'s") else tok).strip("'")
        if tok:
            out.append(tok)
    return out


def compounds(text: str) -> list[str]:
    """Hyphenated words of already normalised text, lower-cased: "batteries-included"."""
    if "-" not in text:
        return []
    return [m.lower() for m in _COMPOUND.findall(text)]


def stem(token: str) -> str:
    """The Snowball (Porter 2) stem of a token; tokens with dots ("node.js") stay whole. A
    comparative or superlative is stemmed as its adjective: "smaller APIs" answers "small
    APIs" (Snowball leaves "smaller" as it is)."""
    s = _STEM_CACHE.get(token)
    if s is None:
        if "." in token or len(token) <= 3:
            s = token
        else:
            s = _OVERSTEMMED.get(token) or _STEMMER.stemWord(_DEGREE.get(token, token))
        if len(_STEM_CACHE) < 500_000:
            _STEM_CACHE[token] = s
    return s


@lru_cache(maxsize=100_000)
def stem_nb(token: str) -> str:
    """The Norwegian Snowball stem of a word ("rammeverkene", "rammeverket" -> "rammeverk"):
    how glossary entries, written in one form, meet a question's inflected Norwegian words."""
    return _NB_STEMMER.stemWord(token) if len(token) > 3 else token


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Everyday words of English and Norwegian (wordfreq's small lists, Zipf frequency >= 3).
    Such a word is never "corrected" into a corpus word: "charge" is not a typo of "change",
    it is a word the corpus does not use. Built into the index, so serving never loads it."""
    from wordfreq import get_frequency_dict

    words: set[str] = set()
    for lang in ("en", "nb"):
        freqs = get_frequency_dict(lang, wordlist="small")
        words.update(w for w, f in freqs.items() if f >= 1e-6 and w.isalpha())
    return frozenset(words)


def everyday_words(words: frozenset[str] | set[str]) -> frozenset[str]:
    """Those of the words that are everyday English words (Zipf frequency >= 4.5): a name
    such as Go or REST that is also "go" or "rest" is a name only when written as one."""
    from wordfreq import zipf_frequency

    return frozenset(w for w in words if zipf_frequency(w, "en") >= 4.5)


def content_tokens(tokens: list[str]) -> list[str]:
    """The tokens that are neither stop words nor question words."""
    return [t for t in tokens if t not in STOP_WORDS and t not in QUESTION_WORDS]


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences at . ! ? followed by a capital, sparing abbreviations."""
    parts = _SENTENCE.split(text)
    out: list[str] = []
    for part in parts:
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return [p.strip() for p in out if p.strip()]


def word_count(text: str) -> int:
    """Number of word tokens in text."""
    return len(_TOKEN.findall(text))


# Function words by language, to tell which language a line is in. Words shared by
# several languages ("for", "i", "at", "men", "de") are left out of the lists where they
# would mislead; one line needs only a few hits to be judged.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """the and of to is are was were in with that this it on as by be from an or which your
        you we our what how why does do can its not have has will into about their they these
        who when where would should could there been being than then also more most such
        only other some any each both all very just""".split()
    ),
    "no": frozenset(
        """og er det som på med av til ikke en et den vi jeg du dere har kan skal vil fra om
        eller hva hvordan hvorfor hvilke hvilken hvilket hvem når hvor seg sin sitt sine din
        dine ditt mitt mine oss noe sammen også bare etter nye ut alle å blir være var dette
        disse meg deg mer mest hos enn slik går bygge lager vår våre deres ved mot under får
        gjør mye mange godt bra""".split()
    ),
    "sv": frozenset(
        """och är det som på med av till inte en ett den vi jag du ni har kan ska vill från om
        eller vad hur varför vilka vilken vem när var sig sin sitt sina din dina ditt mitt
        mina oss något tillsammans också bara efter nya ut alla att blir vara detta dessa
        mig dig mer mest hos än""".split()
    ),
    "da": frozenset(
        """og er det som på med af til ikke en et den vi jeg du har kan skal vil fra om eller
        hvad hvordan hvorfor hvilke hvem hvornår hvor sig sin sit sine din dine dit mit mine
        os noget sammen også bare efter nye ud alle at bliver være dette disse mig dig
        mere""".split()
    ),
    "de": frozenset(
        """der die das und ist nicht ein eine mit für auf zu den dem von wie was ich sie es wir
        auch sich oder aber werden wird sind bei nach aus noch nur über unsere ihr ihre""".split()
    ),
    "fr": frozenset(
        """le la les et est des une un du pour dans que qui ne pas sur avec ce cette sont nous
        vous je il elle au aux leur leurs mais ou plus par comme""".split()
    ),
    "es": frozenset(
        """el la los las y es que en un una por con para del se no su al lo como más pero sus
        le ya o este esta son entre cuando muy sin sobre también""".split()
    ),
    "nl": frozenset(
        """de het een en van is dat die niet in op te met voor zijn er aan ook als maar om dan
        bij nog wat wij ons onze u jullie naar""".split()
    ),
}


_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in FUNCTION_WORDS.items():
    for _w in _words:
        _LANGUAGES_OF[_w] = (*_LANGUAGES_OF.get(_w, ()), _lang)


def language_hits(tokens: list[str]) -> dict[str, int]:
    """How many of the tokens are function words of each language."""
    hits: dict[str, int] = {}
    for tok in tokens:
        for lang in _LANGUAGES_OF.get(tok, ()):
            hits[lang] = hits.get(lang, 0) + 1
    return hits


def is_foreign(tokens: list[str], language: str) -> bool:
    """True when the tokens read as another language than `language`."""
    return is_foreign_by_hits(language_hits(tokens), language)


def is_foreign_by_hits(hits: dict[str, int], language: str) -> bool:
    """is_foreign, from language_hits already counted."""
    own = hits.get(language, 0)
    other = max((n for lang, n in hits.items() if lang != language), default=0)
    return other >= 1 and other > own


def main_language(token_lists: list[list[str]]) -> str:
    """The language most of the token lists are written in ("en" when nothing tells)."""
    total: Counter[str] = Counter()
    for tokens in token_lists:
        total.update(language_hits(tokens))
    return max(sorted(total), key=total.__getitem__) if total else "en"


WORD = r"[^\W_]+(?:[.'][^\W_]+)*"  # a word as written, dotted names whole: "Node.js"
WORDS = re.compile(WORD)
# a word inside a sentence: after a space that follows no full stop, question mark or colon
_INSIDE = re.compile(rf"(?<=[^.!?:\s] )[^\w\s]*({WORD})")
# the visitor saying who they are: "As a CTO, ...", "I'm the CEO of ...", "Jeg er CTO i ..."
_ROLE = re.compile(
    rf"\b(?:as an?|i'?m an?|i'?m the|i am an?|i am the|we'?re an?|we are an?|jeg er|vi er)"
    rf" [^\w\s]*({WORD})",
    re.IGNORECASE,
)


def written_names(text: str, roles: frozenset[str] | None = None) -> list[str]:
    """The words a visitor wrote as names: with a capital (or mixed case, "iPhone") inside a
    sentence ("Does Django support MongoDB?" -> Django, MongoDB), not the visitor's own role
    ("As a CTO, ..."). None when the message is in capitals or title case, where a capital
    says nothing. ``text`` is normalised already; ``roles`` its asker_roles, if known."""
    if text.islower() or text.isupper():  # no capital at all, or nothing but capitals
        return []
    inside = _INSIDE.findall(text)
    if roles is None:
        roles = asker_roles(text)  # who is asking is not what they ask about
    names = [
        w
        for w in inside
        if not w.islower() and w != "I" and w[0].isalpha() and w.lower() not in roles
    ]
    if names:
        small = [w for w in inside if w.lower() in STOP_WORDS and w != "I"]  # "of", "does"
        if sum(not w.islower() for w in small) * 2 > len(small):  # Title Case: "What Is It?"
            return []
    return names


def asker_roles(text: str) -> frozenset[str]:
    """The words by which visitors say who they are, lower-cased: "As a CTO, ..." -> cto,
    "I'm a beginner and ..." -> beginner. ``text`` is normalised already."""
    return frozenset(w.lower() for w in _ROLE.findall(text))


def proper_nouns(texts: list[str], normalized: bool = False) -> frozenset[str]:
    """Words mostly written with a capital inside sentences, lower-cased: names such as Django
    (``normalized``: the texts are normalised already)."""
    # All texts as one, a line each (normalised text holds no white space but single
    # spaces), counted in two regex passes rather than word by word in Python.
    text = "\n".join(texts if normalized else map(normalize, texts))
    counts = Counter(WORDS.findall(text))
    # a sentence's first word is capitalised anyway: it does not count. A sentence starts
    # a line or follows white space after . ! or ?; its first word is the first after
    # that (a word holds no white space, so no sentence start is skipped over).
    counts.subtract(re.findall(rf"(?:^|(?<=[.!?])\s)[\W_]*({WORD})", text, re.MULTILINE))
    upper: dict[str, int] = {}
    total: dict[str, int] = {}
    for w, n in counts.items():  # the same counts as word by word, a distinct word at once
        if n:
            low = w.lower()
            total[low] = total.get(low, 0) + n
            if w[0].isupper():
                upper[low] = upper.get(low, 0) + n
    return frozenset(w for w, n in upper.items() if n >= 0.6 * total[w])
