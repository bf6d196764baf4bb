"""`python -m bot bench`: speed, memory and accuracy figures, ours beside the naive approach, as Markdown.

Developer tooling, not loaded by the running bot. These are figures, not timed tests. For each content
directory (the real one, then optionally a synthetic corpus of N articles per language written by
`bot.corpus`) it measures:

- load/index time in-process, `check-content` and start-up to first answer (`ask`) in fresh processes, with
  their peak resident memory (timing.py, content.py);
- steady per-question time split into detection, retrieval and rendering (p50/p99), next to the naive
  approach (naive.py: langdetect + `rapidfuzz.process.extractOne` over headings and highlight bullets) run
  on the same questions in the same loop, and the ratio between the two, which holds on a noisy machine
  (questions.py);
- accuracy of both on the question set, scored by `bot.domain.evaluation` (questions about the real
  articles must find *their* sections);
- a reload while a thread keeps answering: answers given during it, their latency, and which snapshot
  each came from (reload.py);
- the python-telegram-bot `Application` processing message updates with an offline request, on one core
  (throughput.py, offline.py).

report.py formats the figures; cli.py runs it all.
"""
