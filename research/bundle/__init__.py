"""Implementation of the research bundle format ``run_bundle_v1`` (SPEC §5).

Import from :mod:`research.schemas`, the public surface. The modules here:

- ``issues``: the ``Issue`` type, the codes and messages of the format's own rules;
- ``normalize``: canonical JSON and hash, text normalization for evidence and metric keys;
- ``fields``: reusable field types (strict strings, hashes, URLs, ISO codes, dates);
- ``parts``: steps, sources, aliases, evidence snippets, metrics;
- ``models``: companies, the proposal and ``RunBundleV1``;
- ``resolve``: cross-references and evidence verification of a whole bundle;
- ``validation``: ``validate_bundle``, which never raises.
"""
