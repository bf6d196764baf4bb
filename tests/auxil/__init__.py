"""Test support (after python-telegram-bot's own tests/auxil): the offline Bot API, update factories and
the bot under test. The request fake and the factories live in bot/bench (the benchmark runs on them too);
this package adds what only tests need."""
