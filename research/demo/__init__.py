"""The demo tenant of `manage.py seed_demo` (and so of `make run`): a search firm with its
companies, a search for a client, and research runs in every state the product shows.

- `data`: the seeded generator of plausible European companies;
- `cast`: who is who (the firm's records, the client, the look-alikes the hints point at);
- `bundles`: research bundles built from them (articles, evidence, metrics);
- `runs`: the demo's runs and the companies each proposes;
- `documents`: the notes and pages of the sources run;
- `seed`: the seeding steps, through the services and the real job handlers.
"""

from .seed import demo_seed

__all__ = ["demo_seed"]
