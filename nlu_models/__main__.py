"""Entry point of ``python -m nlu_models``."""

from nlu_models.cli import main

raise SystemExit(main())
