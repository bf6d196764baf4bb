"""Content loading and validation: the five seed articles, cleaning of scraping debris, languages and
slugs from front matter / path / detection, and every problem reported as `path:line: message`."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import ALIASES, CONTENT_DIR, HEADINGS, LANGUAGES, SEEDS_DIR, MakeContent

from bot.domain.content import MAX_FILE_BYTES, ContentError, Library, Problem, load_library
from bot.domain.engine import AnswerEngine

SEED_FOR = {"ms": "000", "pl": "001", "ar": "002", "hi": "003", "ru": "004"}
TITLES = {
    "ms": "Jualan Dalaman",
    "pl": "Sprzedaż wewnętrzna",
    "ar": "مبيعات داخلية",
    "hi": "अंदर की बिक्री",
    "ru": "Внутри продаж",
}
COLD_CALLING_LINK = {
    "ms": "panggilan dingin",
    "pl": "zimne rozmowy",
    "ar": "مكالمات غير رسمية",
    "hi": "कोल्ड कॉलिंग",
    "ru": "холодных звонках",
}
LINK_TARGETS = {"/outside-sales", "/customer", "/coldcalling", "/telemarketing", "/add-on-sales"}
DEBRIS = re.compile(r"[,;:]\s*\.(?!\.)|\s[,.;:!?،؛؟।](?=\s|$)|\s{2,}")

ARTICLE = "# Title\n\n## Section one\n\nSome text in the section.\n"
MS_BODY = (
    "# Jualan Dalaman\n\n## Apakah jualan dalaman?\n\n"
    "Jualan dalaman bermaksud penjualan produk atau perkhidmatan oleh kakitangan yang menjangkau pelanggan "
    "melalui telefon, e-mel atau internet. Cara lain untuk menentukan jualan dalaman ialah jualan jauh.\n"
)
RU_BODY = (
    "# Внутренние продажи\n\n## Что это такое?\n\n"
    "Внутренние продажи означают продажу продуктов или услуг персоналом, который связывается с клиентами "
    "по телефону, электронной почте или через Интернет.\n"
)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(CONTENT_DIR)


def problems_of(root: Path) -> tuple[Problem, ...]:
    with pytest.raises(ContentError) as caught:
        load_library(root)
    return caught.value.problems


def only_problem(root: Path) -> Problem:
    problems = problems_of(root)
    assert len(problems) == 1, problems
    return problems[0]


def assert_formatted(problem: Problem) -> None:
    assert str(problem) == f"{problem.path}:{problem.line}: {problem.message}"
    assert re.fullmatch(r".+:\d+: \S.*", str(problem))


# --- the five seeds ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not SEEDS_DIR.is_dir(), reason="shared/seeds is not beside this checkout")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_content_file_is_byte_identical_to_its_seed(lang: str) -> None:
    (seed,) = SEEDS_DIR.glob(f"{SEED_FOR[lang]}_*.txt")
    assert (CONTENT_DIR / lang / "inside-sales.md").read_bytes() == seed.read_bytes()


def test_library_has_five_languages_of_one_article(library: Library) -> None:
    assert library.languages == LANGUAGES
    assert library.slugs == {"inside-sales"}
    assert library.section_count == 20
    assert set(library.translations("inside-sales")) == set(LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_seed_structure(library: Library, lang: str) -> None:
    article = library.article("inside-sales", lang)
    assert article is not None
    assert article.title == TITLES[lang]
    assert article.lang == lang
    assert article.lang_source == "path"
    assert article.keywords == ("Business", "Small Business")
    assert article.description
    assert tuple(s.heading for s in article.sections) == HEADINGS[lang]
    assert [s.index for s in article.sections] == [0, 1, 2, 3]
    assert [s.is_summary for s in article.sections] == [False, False, False, True]
    assert [b.kind for b in article.sections[0].blocks] == ["paragraph"]
    assert [b.kind for b in article.sections[1].blocks] == ["paragraph"] * 4 + ["quote"]
    assert [b.kind for b in article.sections[2].blocks] == ["paragraph"] * 3
    assert [b.kind for b in article.sections[3].blocks] == ["item"] * 3
    # Line numbers point into the file: headings on their own lines.
    lines = (CONTENT_DIR / lang / "inside-sales.md").read_text(encoding="utf-8").splitlines()
    for section in article.sections:
        assert lines[section.line - 1] == "## " + section.heading
        for block in section.blocks:
            assert lines[block.line - 1].strip()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_links_kept_with_text_and_href(library: Library, lang: str) -> None:
    article = library.article("inside-sales", lang)
    assert article is not None
    links = [span for s in article.sections for b in s.blocks for span in b.links]
    assert {span.href for span in links} == LINK_TARGETS
    cold = [span.text for span in links if span.href == "/coldcalling"]
    assert cold == [COLD_CALLING_LINK[lang]]
    # The link text is part of the block text, in place.
    block = article.sections[1].blocks[0]
    assert COLD_CALLING_LINK[lang] in block.text


def test_malay_cold_calling_link_exactly(library: Library) -> None:
    article = library.article("inside-sales", "ms")
    assert article is not None
    spans = article.sections[1].blocks[0].spans
    assert spans[1].text == "jualan luar"
    assert spans[1].href == "/outside-sales"
    assert any(s.text == "panggilan dingin" and s.href == "/coldcalling" for s in spans)


@pytest.mark.parametrize("lang", ["ms", "pl"])
def test_no_comma_dot_after_link(library: Library, lang: str) -> None:
    article = library.article("inside-sales", lang)
    assert article is not None
    block = article.sections[1].blocks[0]
    assert ",." not in block.text
    after_link = block.spans[2]
    assert after_link.href is None
    assert after_link.text.startswith(", ")  # the comma stays, the stray dot goes
    assert ",." in (CONTENT_DIR / lang / "inside-sales.md").read_text(encoding="utf-8")  # it was there


@pytest.mark.parametrize("lang", LANGUAGES)
def test_messy_input_comes_out_clean(library: Library, lang: str) -> None:
    article = library.article("inside-sales", lang)
    assert article is not None
    texts = [article.title, *(s.heading for s in article.sections)]
    texts += [b.text for s in article.sections for b in s.blocks]
    for text in texts:
        assert text == text.strip()
        assert not DEBRIS.search(text), text
    # The empty '>' after the quote makes no block: exactly one quote, and it has text.
    quotes = [b for s in article.sections for b in s.blocks if b.kind == "quote"]
    assert len(quotes) == 1
    assert len(quotes[0].text) > 20


def test_arabic_space_before_comma_removed(library: Library) -> None:
    raw = (CONTENT_DIR / "ar" / "inside-sales.md").read_text(encoding="utf-8")
    assert "المستهلكين ، حيث" in raw
    article = library.article("inside-sales", "ar")
    assert article is not None
    assert "المستهلكين، حيث" in article.sections[2].blocks[0].text


def test_empty_quote_line_alone_produces_no_block(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": "# T\n\n## S\n\n> Petikan yang sebenar.\n\n>\n\n>\n"})
    (article,) = load_library(root).articles
    assert [(b.kind, b.text) for b in article.sections[0].blocks] == [("quote", "Petikan yang sebenar.")]


# --- language and slug -------------------------------------------------------------------------------------


def test_language_from_front_matter_wins_over_path(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": "---\nlang: pl_PL\n---\n" + ARTICLE})
    (article,) = load_library(root).articles
    assert (article.lang, article.lang_source) == ("pl", "front matter")


def test_language_from_directory(make_content: MakeContent) -> None:
    root = make_content({"ru/a.md": ARTICLE})
    (article,) = load_library(root).articles
    assert (article.slug, article.lang, article.lang_source) == ("a", "ru", "path")


def test_language_from_file_suffix(make_content: MakeContent) -> None:
    root = make_content({"my-article.pl.md": ARTICLE})
    (article,) = load_library(root).articles
    assert (article.slug, article.lang, article.lang_source) == ("my-article", "pl", "path")


def test_slug_from_front_matter(make_content: MakeContent) -> None:
    root = make_content({"ms/file-name.md": "---\nslug: jualan-dalaman\ntitle: Tajuk\n---\n" + ARTICLE})
    (article,) = load_library(root).articles
    assert article.slug == "jualan-dalaman"
    assert article.title == "Tajuk"  # front matter title wins over the '# ' heading


def test_slug_and_title_from_file(make_content: MakeContent) -> None:
    root = make_content({"hi/some-slug.md": ARTICLE})
    (article,) = load_library(root).articles
    assert (article.slug, article.title) == ("some-slug", "Title")


@pytest.mark.parametrize(("body", "lang"), [(RU_BODY, "ru"), (MS_BODY, "ms")])
def test_language_detected_when_not_declared(make_content: MakeContent, body: str, lang: str) -> None:
    root = make_content({"article.md": body})
    engine = AnswerEngine.from_directory(root, aliases=ALIASES)
    (article,) = engine.library.articles
    assert (article.lang, article.lang_source) == (lang, "detected")
    assert engine.report().detected == (article,)


def test_undeclared_language_without_a_guesser_is_a_problem(make_content: MakeContent) -> None:
    root = make_content({"article.md": RU_BODY})
    problem = only_problem(root)
    assert problem.path == root / "article.md"
    assert "cannot tell the language" in problem.message


def test_symlink_inside_the_content_dir_is_allowed(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": ARTICLE})
    os.symlink(root / "ms" / "a.md", root / "ms" / "b.md")
    assert [a.slug for a in load_library(root).articles] == ["a", "b"]


def test_hidden_files_are_ignored(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": ARTICLE, "ms/.a.md.swp": b"\xff\x00", ".gitkeep": ""})
    assert [a.slug for a in load_library(root).articles] == ["a"]


# --- validation ---------------------------------------------------------------------------------------------


def test_bad_yaml_is_reported(make_content: MakeContent) -> None:
    root = make_content({"a.md": "---\nfoo: bar: baz\n---\n" + ARTICLE})
    problem = only_problem(root)
    assert_formatted(problem)
    assert problem.path == root / "a.md"
    assert "not valid YAML" in problem.message


def test_bad_yaml_reports_the_line_of_the_error(make_content: MakeContent) -> None:
    root = make_content({"a.md": "---\ntitle: ok\nfoo: bar: baz\nlang: ms\n---\n" + ARTICLE})
    problem = only_problem(root)
    assert "not valid YAML" in problem.message
    assert problem.line == 3  # 'foo: bar: baz'


def test_empty_body(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": "---\ntitle: Tajuk\n---\n\n"})
    problem = only_problem(root)
    assert_formatted(problem)
    assert problem.line in (4, 5)  # just after the front matter
    assert "no body" in problem.message


def test_empty_file(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": ""})
    problem = only_problem(root)
    assert (problem.line, "no body" in problem.message) == (1, True)


def test_undecodable_bytes_reported_on_their_line(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": b"# T\n\n## S\n\ngood line\nbad \xff\xfe line\n"})
    problem = only_problem(root)
    assert_formatted(problem)
    assert problem.line == 6
    assert "UTF-8" in problem.message
    assert "0xff" in problem.message


def test_nul_character_is_rejected(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": "# T\n\n## S\n\ntext\x00\n"})
    problem = only_problem(root)
    assert problem.line == 5
    assert "NUL" in problem.message


def test_duplicate_slug_and_language_names_both_files(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": ARTICLE, "a.ms.md": ARTICLE})
    problem = only_problem(root)
    assert_formatted(problem)
    assert "duplicate" in problem.message
    reported = {str(problem.path), *re.findall(r"\S+\.md", problem.message)}
    assert reported == {str(root / "ms" / "a.md"), str(root / "a.ms.md")}


def test_same_slug_in_two_languages_is_fine(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": ARTICLE, "pl/a.md": ARTICLE})
    assert set(load_library(root).translations("a")) == {"ms", "pl"}


def test_not_markdown_file(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": ARTICLE, "notes.txt": "just notes"})
    problem = only_problem(root)
    assert_formatted(problem)
    assert problem.path == root / "notes.txt"
    assert "not a Markdown file" in problem.message


def test_file_too_large(make_content: MakeContent) -> None:
    big = ARTICLE + "x" * (MAX_FILE_BYTES + 1 - len(ARTICLE))
    root = make_content({"ms/a.md": ARTICLE, "ms/big.md": big})
    problem = only_problem(root)
    assert_formatted(problem)
    assert problem.path == root / "ms" / "big.md"
    assert "too large" in problem.message


def test_file_at_the_size_limit_is_accepted(make_content: MakeContent) -> None:
    text = ARTICLE + "y" * (MAX_FILE_BYTES - len(ARTICLE) - 1) + "\n"
    root = make_content({"ms/a.md": text})
    assert (root / "ms" / "a.md").stat().st_size == MAX_FILE_BYTES
    assert len(load_library(root).articles) == 1


def test_symlink_outside_the_content_dir(make_content: MakeContent, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text(ARTICLE, encoding="utf-8")
    root = make_content({"ms/a.md": ARTICLE})
    os.symlink(outside, root / "ms" / "link.md")
    problem = only_problem(root)
    assert_formatted(problem)
    assert problem.path == root / "ms" / "link.md"
    assert "outside the content directory" in problem.message


def test_bad_lang_code(make_content: MakeContent) -> None:
    root = make_content({"a.md": "---\ntitle: T\nlang: english\n---\n" + ARTICLE})
    problems = problems_of(root)
    assert any("'lang' must be an ISO 639-1 code" in p.message and "english" in p.message for p in problems)
    assert all(p.path == root / "a.md" for p in problems)


def test_bad_lang_code_reported_on_its_line(make_content: MakeContent) -> None:
    root = make_content({"a.md": "---\ntitle: T\nlang: english\n---\n" + ARTICLE})
    (problem,) = [p for p in problems_of(root) if "ISO 639-1 code" in p.message]
    assert problem.line == 3


def test_section_with_no_text(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": "# T\n\n## Kosong\n\n## Penuh\n\nAda teks di sini.\n"})
    problem = only_problem(root)
    assert_formatted(problem)
    assert problem.line == 3
    assert "'Kosong' has no text" in problem.message


def test_no_title(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": "## S\n\ntext\n"})
    problem = only_problem(root)
    assert (problem.line, "no title" in problem.message) == (1, True)


def test_invalid_slug(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": "---\nslug: ../etc/passwd\n---\n" + ARTICLE})
    problem = only_problem(root)
    assert "invalid slug" in problem.message


def test_missing_and_empty_directories(tmp_path: Path) -> None:
    missing = only_problem(tmp_path / "nope")
    assert "does not exist" in missing.message
    (tmp_path / "empty").mkdir()
    assert "no articles" in only_problem(tmp_path / "empty").message


def test_several_problems_all_listed_and_nothing_loaded(make_content: MakeContent, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(ARTICLE, encoding="utf-8")
    root = make_content(
        {
            "ms/good.md": ARTICLE,
            "ms/bad-yaml.md": "---\nfoo: bar: baz\n---\n" + ARTICLE,
            "ms/empty.md": "---\ntitle: x\n---\n",
            "ms/bytes.md": b"# T\n\n\xc3\x28\n",
            "ms/hollow.md": "# T\n\n## Empty\n\n## Full\n\ntext\n",
            "pl/good.md": ARTICLE,
            "good.pl.md": ARTICLE,
            "README.txt": "notes",
        }
    )
    os.symlink(outside, root / "ms" / "escape.md")
    with pytest.raises(ContentError) as caught:
        load_library(root)
    problems = caught.value.problems
    by_file = {p.path.relative_to(root).as_posix(): p for p in problems}
    duplicates = {"pl/good.md", "good.pl.md"} & set(by_file)
    assert len(duplicates) == 1  # the duplicate is reported once, on one file, naming the other
    assert set(by_file) - duplicates == {
        "ms/bad-yaml.md",
        "ms/empty.md",
        "ms/bytes.md",
        "ms/hollow.md",
        "ms/escape.md",
        "README.txt",
    }
    assert len(problems) == 7
    assert by_file["ms/bytes.md"].line == 3
    assert by_file["ms/hollow.md"].line == 3
    # The exception's text is the list, one `path:line: message` per line, sorted by path.
    lines = str(caught.value).splitlines()
    assert lines == [str(p) for p in problems]
    assert [str(p.path) for p in problems] == sorted(str(p.path) for p in problems)
    for problem in problems:
        assert_formatted(problem)


def test_failed_reload_keeps_the_previous_content(make_content: MakeContent) -> None:
    root = make_content({"ms/a.md": MS_BODY, "pl/a.md": ARTICLE})
    engine = AnswerEngine.from_directory(root, aliases=ALIASES)
    before = engine.snapshot
    (root / "ms" / "broken.md").write_bytes(b"\xff")
    with pytest.raises(ContentError):
        engine.reload()
    assert engine.snapshot is before
    (root / "ms" / "broken.md").unlink()
    report = engine.reload()
    assert engine.snapshot is not before
    assert (report.articles, report.languages) == (2, ("ms", "pl"))
