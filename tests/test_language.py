"""Language detection: dev-set accuracy, Malay vs Indonesian, determinism, scripts, robustness, hints."""

from __future__ import annotations

import pytest
from conftest import DEV_TSV, LANGUAGES

from bot.domain.engine import AnswerEngine, _language_samples
from bot.domain.evaluation import Case, read_cases
from bot.domain.language import LanguageDetector, dominant_script, is_arabic_chat_word, parse_aliases
from bot.domain.search.romanize import Transliterator, skeleton

CASES = read_cases(DEV_TSV)
MALAY = [
    "Jualan dalaman tu apa?",
    "Apakah penjanaan utama?",
    "Berapakah gaji wakil jualan dalaman?",
    "Mengapa orang suka membeli secara dalam talian?",
    "Bagaimana cara menjual produk secara online?",
    "Saya mahu tahu tentang jualan dalaman dan gaji",
    "Siapa perdana menteri Malaysia?",
    "Persatuan industri untuk jualan dalaman",
]


@pytest.fixture(scope="module")
def detector(engine: AnswerEngine) -> LanguageDetector:
    return engine.snapshot.detector


def test_dev_set_languages_at_least_99_percent(detector: LanguageDetector) -> None:
    wrong = [(c.lang, c.question, detector.detect(c.question)) for c in CASES]
    wrong = [w for w in wrong if w[2].lang != w[0]]
    share = 1 - len(wrong) / len(CASES)
    print(f"language accuracy on dev.tsv: {share:.1%} of {len(CASES)}")
    assert len(CASES) == 50
    assert share >= 0.99, wrong


@pytest.mark.parametrize("case", [c for c in CASES if c.lang == "ms"], ids=lambda c: f"line{c.line}")
def test_dev_malay_is_malay(detector: LanguageDetector, case: Case) -> None:
    assert detector.detect(case.question).lang == "ms"


@pytest.mark.parametrize("question", MALAY)
def test_malay_never_comes_back_as_indonesian(detector: LanguageDetector, question: str) -> None:
    detection = detector.detect(question)
    assert detection.lang == "ms"
    assert detection.lang != "id"


def test_langdetect_step_maps_indonesian_to_malay(detector: LanguageDetector) -> None:
    # Words the content and the stop lists do not know ("Bagaimana", "cara" would vote Malay themselves):
    # only langdetect (which says "id") can decide.
    detection = detector.detect("Pembeli memesan sepatu lewat aplikasi ponsel")
    assert (detection.lang, detection.method) == ("ms", "langdetect")


def test_seeded_determinism(engine: AnswerEngine) -> None:
    questions = [c.question for c in CASES] + ["Bagaimana cara menjual produk secara online?", "Ile płaci?"]
    first = [engine.detect(q) for q in questions]
    for _ in range(20):
        assert [engine.detect(q) for q in questions] == first
    # A detector built afresh from the same samples answers the same.
    fresh = LanguageDetector(_language_samples(engine.library), default="en", aliases=parse_aliases("id:ms"))
    assert [fresh.detect(q) for q in questions] == first


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("State Farm कितना वेतन देती है?", "hi"),
        ("PayScale.com और Oracle Corp. के अनुसार AA-ISP क्या है?", "hi"),
        ("كم تدفع شركة State Farm Insurance Company لمندوبيها؟", "ar"),
        ("ما هو AA-ISP؟", "ar"),
        ("Сколько платит State Farm Insurance Company?", "ru"),
        ("Что такое AA-ISP и PayScale?", "ru"),
    ],
)
def test_script_decides_even_with_latin_brand_names(detector: LanguageDetector, question: str, lang: str) -> None:
    detection = detector.detect(question, hints=["pl"])  # a contrary hint must not matter either
    assert (detection.lang, detection.method) == (lang, "script")


def test_dominant_script() -> None:
    assert dominant_script("State Farm कितना वेतन देती है?") == "DEVANAGARI"
    assert dominant_script("Oracle Corp. платит") == "CYRILLIC"
    assert dominant_script("123 !?") is None
    assert dominant_script("") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "🙂",
        "🙂🙂",
        "👍🏽🇲🇾❤️‍🔥",
        "0123456789",
        "2018",
        "!!!???",
        "Привет hello مرحبا नमस्ते cześć",
        "a" * 10_000,
        "Jualan dalaman " * 700,
        "\x00\x01\x02\x1b[31m\x7f",
        "\u200b\ufeff\u200f\u202e",
        "\ud7ff\ue000\ufffd",
        "<b>&amp;</b>",
        "日本語のテキスト",
        "ግዕዝ",
    ],
)
def test_never_raises_and_always_a_content_language(detector: LanguageDetector, text: str) -> None:
    for hints in ([], ["pl-PL"], [None, "", "xx-YY"]):
        detection = detector.detect(text, hints)
        assert detection.lang in LANGUAGES


def test_long_text_detected(detector: LanguageDetector) -> None:
    assert detector.detect("Сколько платит State Farm? " * 400).lang == "ru"
    assert detector.detect("Ile płaci State Farm? " * 500).lang == "pl"


@pytest.mark.parametrize(
    ("text", "hint", "lang"),
    [
        ("AA-ISP?", "pl-PL", "pl"),
        ("AA-ISP?", "pl", "pl"),
        ("AA-ISP?", "ms", "ms"),
        ("AA-ISP?", "id", "ms"),
        ("AA-ISP?", "id-ID", "ms"),
        ("ok", "pl-PL", "pl"),
        ("ok", "ms_MY", "ms"),
        ("", "ru-RU", "ru"),
        ("🙂🙂", "ar", "ar"),
        ("2018", "hi", "hi"),
    ],
)
def test_short_text_uses_hints(detector: LanguageDetector, text: str, hint: str, lang: str) -> None:
    detection = detector.detect(text, hints=[hint])
    assert (detection.lang, detection.method) == (lang, "hint")


def test_first_usable_hint_wins(detector: LanguageDetector) -> None:
    assert detector.detect("ok", hints=[None, "xx", "en-US", "pl", "ms"]).lang == "pl"
    assert detector.detect("ok", hints=["ms", "pl"]).lang == "ms"


def test_hints_do_not_override_a_long_text(detector: LanguageDetector) -> None:
    assert detector.detect("Dlaczego klienci lubią kupować przez internet?", hints=["ms"]).lang == "pl"
    assert detector.detect("Mengapa orang suka membeli secara dalam talian?", hints=["pl-PL"]).lang == "ms"


def test_short_latin_acronym_follows_a_non_latin_hint(detector: LanguageDetector) -> None:
    assert detector.detect("AA-ISP?", hints=["ru"]).lang == "ru"


def test_default_when_nothing_helps(engine: AnswerEngine) -> None:
    samples = _language_samples(engine.library)
    for default in ("pl", "ms", "ru"):
        detector = LanguageDetector(samples, default=default)
        assert detector.detect("").lang == default
        assert detector.detect("🙂", hints=["xx"]).method == "default"
    # Latin text cannot be Russian: the default applies only among the candidates of the script.
    latin = LanguageDetector(samples, default="pl").detect("ok")
    assert (latin.lang, latin.method) == ("pl", "default")
    assert LanguageDetector(samples, default="ru").detect("ok").lang in ("ms", "pl")
    # A default that is not a content language still yields a content language.
    nothing = LanguageDetector(samples, default="en").detect("", hints=["fr"])
    assert nothing.lang in LANGUAGES
    assert nothing.method == "default"
    # An aliased default resolves: "id" -> "ms".
    assert LanguageDetector(samples, default="id").detect("").lang == "ms"


def test_only_one_language() -> None:
    detector = LanguageDetector({"pl": "Sprzedaż wewnętrzna"})
    assert detector.detect("Что такое?").lang == "pl"
    assert detector.detect("Что такое?").method == "only"


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("pl-PL", "pl"),
        ("pl_PL", "pl"),
        ("PL", "pl"),
        (" ru ", "ru"),
        ("ru-RU", "ru"),
        ("id", "ms"),
        ("ID", "ms"),
        ("id-ID", "ms"),
        ("ms-MY", "ms"),
        ("ar-EG", "ar"),
        ("hi-IN", "hi"),
        ("uk", "ru"),  # close-language table
        ("ur", "hi"),
        ("fa", "ar"),
        ("en", None),
        ("pt-BR", None),
        ("", None),
        (None, None),
        ("x", None),
    ],
)
def test_resolve(detector: LanguageDetector, code: str | None, lang: str | None) -> None:
    assert detector.resolve(code) == lang


def test_configured_aliases_extend_the_table(engine: AnswerEngine) -> None:
    samples = _language_samples(engine.library)
    detector = LanguageDetector(samples, aliases=parse_aliases("en:pl, xx:ru"))
    assert detector.resolve("en-GB") == "pl"
    assert detector.resolve("xx") == "ru"
    assert detector.resolve("id") == "ms"  # the built-in table stays


def test_parse_aliases() -> None:
    assert parse_aliases("id:ms,nb:no") == {"id": ("ms",), "nb": ("no",)}
    assert parse_aliases(" ID : ms , id:xx ,, bad, :x") == {"id": ("ms", "xx")}
    assert parse_aliases("") == {}


@pytest.mark.parametrize(
    "question", ["average salary for inside sales at Oracle", "inside vs outside sales", "what does inside sales mean"]
)
def test_english_function_words_and_the_articles_english_terms_make_english(
    detector: LanguageDetector, question: str
) -> None:
    # No Telegram hint (the command line): the slugs are English words, so they back English's own words.
    detection = detector.detect(question)
    assert detection.question_language == "en"
    assert detection.method == "foreign"


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("inside sales tu apa ya?", "ms"),
        ("berapa gaji purata inside sales kat Oracle?", "ms"),
        ("inside sales ke fayde kya hain", "hi"),
        ("inside sales ka matlab kya hai", "hi"),
    ],
)
def test_english_terms_alone_do_not_make_english(detector: LanguageDetector, question: str, lang: str) -> None:
    detection = detector.detect(question)
    assert detection.lang == lang
    assert detection.question_language in ("", lang)


def test_slug_words_in_a_content_language_vote_for_no_foreign_language() -> None:
    samples = {
        "ms": "Jualan dalaman ialah jualan melalui telefon.",
        "pl": "Sprzedaż wewnętrzna to sprzedaż przez telefon.",
    }
    detector = LanguageDetector(samples, foreign=["en"], terms=["jualan", "dalaman"], neutral=["jualan", "dalaman"])
    assert detector._terms_language is None  # too few words to tell, and not English


def test_skeletons_meet_across_scripts() -> None:
    assert skeleton("внутренние") == skeleton("vnutrennie")
    assert skeleton("मतलब") == skeleton("matlab")
    assert skeleton("مبيعات") == skeleton("mabi3at")


def test_transliteration_picks_the_spelling_closest_to_what_was_typed() -> None:
    # A large library holds several words per skeleton; the most frequent is not always the one meant.
    vocabulary = {"एसोलाश": 40, "सेल्स": 3, "इनसाइड": 3}
    transliterator = Transliterator(vocabulary, ["का", "क्या", "है"], "hi")
    assert transliterator.transliterate("inside sales ka matlab kya hai").split()[:3] == ["इनसाइड", "सेल्स", "का"]
    arabic = Transliterator({"الدخل": 90, "الداخلية": 4, "المبيعات": 4}, ["ما", "هي"], "ar")
    assert arabic.transliterate("al mabi3at al dakhiliya").split() == ["المبيعات", "الداخلية"]


def test_two_function_words_typed_in_latin_letters_name_their_language(detector: LanguageDetector) -> None:
    # "что такое" typed: short Arabic function words' skeletons take a share of each word's vote.
    detection = detector.detect("chto takoe telemarketing")
    assert (detection.lang, detection.method) == ("ru", "romanized")


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        # Hindi function words each also meet a short Arabic skeleton, weakly: sure words still decide.
        ("telemarketing aur inside sales same hai kya", "hi"),
        ("top 10% inside sales walo ko max kitna milta hai", "hi"),
        # The Arabic chat alphabet's digits inside words ("ya3ni", "sht8l") are surely Arabic.
        ("shu ya3ni inside sales", "ar"),
        ("el inside sales rep byesafer wala bysht8l mn el maktab bas?", "ar"),
    ],
)
def test_words_claimed_surely_outweigh_weak_claims(detector: LanguageDetector, question: str, lang: str) -> None:
    detection = detector.detect(question)
    assert (detection.lang, detection.method) == (lang, "romanized")


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        # English's stop list holds letters and country codes: "v", "fi", "la", "me", "ki" are Russian,
        # Arabic and Hindi chat's short words too, and claim only half a word's vote for English.
        ("skolko platyat v oracle inside sales rep-am?", "ru"),
        ("kam el ratib el mtwasset la mandoub el inside sales?", "ar"),
        ("lead generation me inside sales team outside team ki kaise help karti hai", "hi"),
    ],
)
def test_a_foreign_stop_lists_short_entries_are_weak_claims(
    detector: LanguageDetector, question: str, lang: str
) -> None:
    detection = detector.detect(question)
    assert (detection.lang, detection.method) == (lang, "romanized")
    # English's own short words still speak beside its longer ones.
    assert detector.detect("what is it and how do I do it").question_language == "en"


@pytest.mark.parametrize(
    ("word", "arabic"),
    [
        ("ya3ni", True),
        ("bysht8l", True),
        ("3ala", True),
        ("b2b", False),
        ("mp3", False),
        ("win7", False),
        ("4g", False),
    ],
)
def test_the_arabic_chat_alphabet_is_told_from_names_and_codes(word: str, arabic: bool) -> None:
    assert is_arabic_chat_word(word) is arabic


def test_chat_short_forms_are_their_languages_words(detector: LanguageDetector) -> None:
    assert detector.detect("gaji inside sales brp skrg").lang == "ms"
    assert detector.detect("bagi ringkasan inside sales dlm 3 point je").lang == "ms"


def test_a_quoted_term_is_not_the_language_asked_in(detector: LanguageDetector) -> None:
    assert detector.detect('co to jest "sales in the cloud"?').lang == "pl"
    assert detector.detect("co to jest «sales in the cloud»?").lang == "pl"
    # Where the words outside the quotes cannot tell (one Russian word here), the quoted ones speak too.
    detection = detector.detect('pochemu inside sales nazyvayut "prodazhi v oblake"?')
    assert (detection.lang, detection.method) == ("ru", "romanized")


def test_a_content_languages_sure_words_outweigh_english_terms(detector: LanguageDetector) -> None:
    # Malay chat: "bleh", "tak", "kpd" are Malay; "company", "outsource", "third party" are English.
    detection = detector.detect("bleh tak company outsource inside sales kpd third party")
    assert (detection.lang, detection.question_language) == ("ms", "")


def test_soft_signs_are_not_typed(detector: LanguageDetector) -> None:
    from bot.domain.search.romanize import typed

    assert typed("сколько") == "skolko"
    assert detector.detect("skolko platyat v state farm inside sales repam").lang == "ru"


def test_chat_spellings_of_a_romanized_language_are_its_words(detector: LanguageDetector) -> None:
    # "kyu", "h", "pasand", "karte": how chat spells Hindi in Latin letters (`chat_forms` in hi.toml).
    detection = detector.detect("log online ya phone se shopping kyu pasand karte h")
    assert (detection.lang, detection.method) == ("hi", "romanized")
    hindi = Transliterator({}, [], "hi", {"kyu": "क्यों", "h": "है"})
    assert hindi.transliterate("kyu h") == "क्यों है"


@pytest.mark.parametrize(
    "question", ["skad sie wzial ten podzial na wewnetrzna i zewnetrzna", "wewnetrzna vs zewnetrzna - roznica?"]
)
def test_words_typed_without_diacritics_are_the_languages_own(detector: LanguageDetector, question: str) -> None:
    # Chat leaves out diacritics ("sie" for "się"): the words still say Polish, without langdetect's guess.
    detection = detector.detect(question)
    assert (detection.lang, detection.method) == ("pl", "words")
