"""Offline voice assistant for the yearly pension eligibility certification (养老金资格认证)."""

from pathlib import Path

__version__ = "0.1.0"

#: Project root when run from a checkout; flows/ and voices/ live beside the package.
ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIR = ROOT / "flows"
VOICES_DIR = ROOT / "voices"
