"""Charts, workbooks and command-line reports built from the metrics (no Telegram, no engine state)."""
