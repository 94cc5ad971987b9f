from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# What is loaded by now (Django, the apps, their modules: some 200,000 objects) lives as long
# as the process. Frozen, it is left out of garbage collection: a full collection, which
# otherwise walks all of it, cost about 100 ms in the middle of whichever request set it off.
gc.freeze()
