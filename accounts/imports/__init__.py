"""CSV in (data-contract.md) for the books: the cells (`cells`), the kinds of file
(`kinds`) and the all-or-nothing import (`engine`). The product's command and page import
through `compapp.imports`, which adds the pay's plans file and the follow-up of approved
quarters."""

from accounts.imports.engine import (
    PROGRESS_EVERY,
    ImportResult,
    import_file,
    import_runs_latest,
)
from accounts.imports.kinds import BOOK_KINDS, Kind

__all__ = ["BOOK_KINDS", "PROGRESS_EVERY", "ImportResult", "Kind", "import_file",
           "import_runs_latest"]
