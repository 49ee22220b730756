"""The sources library: fetch, extract, classify and find company mentions.

Pure code (no models, no jobs): the pipeline in `research.services` calls it. Modules:
`fetch` (SSRF-safe HTTP), `addresses` (the address policy), `extract` (main text),
`classify` (reason codes and near-duplicates), `mentions` (known companies in a text).
"""
