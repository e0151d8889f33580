"""One module per chat flow, each with `register(bot, services)`; order of registration matters:
commands first (they work in any step), then the steps of each flow, then the fallbacks."""
