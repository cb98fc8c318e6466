"""``python -m example``: run the demo."""

from example.runner import main

raise SystemExit(main())
