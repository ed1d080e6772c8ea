"""Xet storage inside the lfs service (huggingface.co/docs/xet): the format library (chunking,
hashing, xorbs, shards), the CAS API that hf_xet talks to, and the token endpoints that hand it
short-lived repo-scoped credentials."""
