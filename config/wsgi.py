import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config.body_limit import RequestBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Wrapped so that a body over the limit is refused before Django could read or store any of it.
application = RequestBodyLimit(get_wsgi_application(), limit=settings.TRIAD_MAX_REQUEST_BYTES)
