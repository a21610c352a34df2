"""How big the synthetic dataset is, and the ids its rows get.

Every id is ``md5('<kind>:<company>:<n>')::uuid``, computed the same way in SQL (while
generating) and in Python (``uid``), so the measurements name rows without looking
them up and without helper tables.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import asdict, dataclass

#: Company 1 holds the big share of part 2; companies 2..11 hold the vector chunks.
BIG_COMPANY = 1
CHUNK_COMPANIES = tuple(range(2, 12))
#: Of the chunk companies: the one holding half the chunks (50,000 at scale 1), the one
#: holding 5% (5,000: the issue's two company sizes) and the one holding 1%.
HALF_COMPANY = 2
SMALL_COMPANY = 3
FIVE_PERCENT_COMPANY = 4
#: The company of parts 5 and 6 (matching, generation): its library alone, outside the
#: numbering of the others (1..companies), so it is built with or without them.
LIBRARY_COMPANY = 0
USERS_PER_COMPANY = 5
BIG_COMPANY_USERS = 50
#: ``metadata->>'embedding_model'`` of the generated chunks (rag.search filters on it).
EMBEDDING_MODEL = "benchmark-clustered-384"


def uid(kind: str, company: int, n: int = 0) -> uuid.UUID:
    """The id the generator gave row ``n`` of ``kind`` of ``company``."""
    return uuid.UUID(hashlib.md5(f"{kind}:{company}:{n}".encode()).hexdigest())


@dataclass(frozen=True)
class Sizes:
    scale: float
    companies: int
    projects: int
    blocks: int
    audit: int
    #: Projects, content blocks and audit rows of the one big company (part 2).
    big_rows: int
    chunks: int
    legacy_projects: int
    #: Active content blocks and memoir chunks of the library company (parts 5, 6).
    library_blocks: int = 10_000
    library_chunks: int = 2_000

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        """``scale`` 1 = the issue's sizes: 1,000 companies, 1,000,000 projects and
        content blocks, 5,000,000 audit rows, one company with 100,000 of each,
        100,000 chunks of 384 dimensions, 1,000,000 legacy projects; a library company
        of 10,000 active blocks and 2,000 memoir chunks."""
        projects = max(200, round(1_000_000 * scale))
        return cls(
            scale=scale,
            companies=max(len(CHUNK_COMPANIES) + 2, round(1_000 * scale)),
            projects=projects,
            blocks=projects,
            audit=5 * projects,
            big_rows=max(20, round(100_000 * scale)),
            chunks=max(1_000, round(100_000 * scale)),
            legacy_projects=max(100, round(1_000_000 * scale)),
            library_blocks=max(350, round(10_000 * scale)),
            library_chunks=max(200, round(2_000 * scale)),
        )

    def as_dict(self) -> dict:
        return asdict(self)

    # --- how rows are spread over companies (the SQL generator does the same) ----
    @property
    def typical_company(self) -> int:
        return self.companies

    def ratio(self, total: int) -> int:
        """Every ``ratio``-th row of a table of ``total`` rows is the big company's."""
        return max(1, total // self.big_rows)

    def big_count(self, total: int) -> int:
        return math.ceil(total / self.ratio(total))

    def other_count(self, total: int) -> int:
        """Rows each other company holds at least."""
        return (total - self.big_count(total)) // (self.companies - 1)

    def users(self, company: int) -> int:
        return BIG_COMPANY_USERS if company == BIG_COMPANY else USERS_PER_COMPANY

    def chunk_shares(self) -> dict[int, int]:
        """Chunks per chunk company: 50%, 1%, 5%, and the rest split evenly."""
        half = self.chunks // 2
        small = max(10, self.chunks // 100)
        five = max(20, self.chunks // 20)
        others = CHUNK_COMPANIES[3:]
        rest = self.chunks - half - small - five
        shares = {HALF_COMPANY: half, SMALL_COMPANY: small, FIVE_PERCENT_COMPANY: five}
        for i, company in enumerate(others):
            shares[company] = rest // len(others) + (1 if i < rest % len(others) else 0)
        return shares
