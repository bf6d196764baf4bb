"""What taught phrasings cost: swapping them in, and answering with them in place.

    python benchmarks/phrasings.py [CONTENT_DIR]

Synthetic phrasings of 2-6 words drawn from the Malay article's vocabulary, once at random and once all
sharing the topic's words ("jualan dalaman", the worst case: every phrasing is a candidate for every
question about the topic). Prints figures; asserts nothing.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

from bot.domain.engine import AnswerEngine
from bot.domain.phrasings import Phrasing
from bot.domain.text import words

QUESTIONS = ["vnutrennie prodazhi zarplata", "Berapakah gaji wakil jualan dalaman?", "resepi rendang ayam",
             "apa itu jualan dalaman"]  # fmt: skip
PASSES = 50


def main(content: Path) -> None:
    engine = AnswerEngine.from_directory(content)
    vocabulary = sorted({w for a in engine.library.in_language("ms") for s in a.sections for w in words(s.text)})
    rng = random.Random(0)
    for count in (0, 10, 100, 1000):
        for prefix in ("", "jualan dalaman "):
            if prefix and not count:
                continue
            phrasings = [
                Phrasing("inside-sales", rng.randrange(4), prefix + " ".join(rng.sample(vocabulary, rng.randint(2, 6))),
                         "ms", "taught", i)
                for i in range(count)
            ]  # fmt: skip
            started = time.perf_counter()
            engine.set_taught(phrasings)
            swap = time.perf_counter() - started
            times = []
            for _ in range(PASSES):
                for question in QUESTIONS:
                    started = time.perf_counter()
                    engine.answer(question)
                    times.append(time.perf_counter() - started)
            times.sort()
            p50, p99 = statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000
            kind = "sharing the topic's words" if prefix else "of random content words"
            print(
                f"{count:5} phrasings {kind:26}: set_taught {swap * 1000:7.1f} ms; "
                f"answer p50 {p50:5.2f} ms, p99 {p99:5.2f} ms"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("content"))
