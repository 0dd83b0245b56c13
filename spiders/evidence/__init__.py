"""Evidence: every fetched response of a crawl run kept in WARC files that stand up in court.

- :class:`WarcWriter` writes a run's records (``runs/<run>/isop-<run>-<seq>.warc.gz``) and,
  on :meth:`WarcWriter.close`, the run's manifest;
- :func:`write_manifest` / :func:`recover` seal a run directory (``manifest.json`` plus
  ``manifest.sha256``), the latter for runs a crash left unsealed;
- :func:`verify` checks runs against their manifests (files, sizes, hashes, records);
- :func:`safe_screenshot_path` / :func:`save_screenshot` place screenshots by URL hash.

File names never come from scraped data: only run ids, sequence numbers and hashes.
"""

from spiders.evidence.manifest import (
    Manifest,
    ManifestFile,
    parse_manifest,
    recover,
    write_manifest,
)
from spiders.evidence.paths import (
    DIR_MODE,
    FILE_MODE,
    EvidenceError,
    run_dir,
    safe_screenshot_path,
    save_screenshot,
)
from spiders.evidence.records import WarcScan, scan_warc
from spiders.evidence.verify import PROBLEM_KINDS, Problem, verify
from spiders.evidence.writer import WarcRef, WarcWriter

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "PROBLEM_KINDS",
    "EvidenceError",
    "Manifest",
    "ManifestFile",
    "Problem",
    "WarcRef",
    "WarcScan",
    "WarcWriter",
    "parse_manifest",
    "recover",
    "run_dir",
    "safe_screenshot_path",
    "save_screenshot",
    "scan_warc",
    "verify",
    "write_manifest",
]
