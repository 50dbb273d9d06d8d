"""Documents and information requests of a request (blueprint "documents", under /requests).

    GET       /requests/<id>/documents                            every document and version
    GET, POST /requests/<id>/documents/upload                     upload (same type and title:
                                                                  a new version)
    GET       /requests/<id>/documents/<doc>/versions/<n>/download     one version (parties)
    POST      /requests/<id>/documents/<doc>/publication          agency: publish or withdraw
    GET       /requests/<id>/information                          the rounds of questions
    GET, POST /requests/<id>/information/new                      assessor: compose a round
    GET       /requests/<id>/information/<n>                      one round, the answer forms
    POST      /requests/<id>/information/<n>/questions/<q>/answer          save a draft
    POST      /requests/<id>/information/<n>/questions/<q>/attachments/<a>/remove
    POST      /requests/<id>/information/<n>/send                 send the answers

A request the user is not a party to answers 404 on every URL.

`public_bp` ("documents_public", mounted under /register/documents) serves, without login, the
documents the agency published, of requests in the public register:
    GET       /register/documents/<id>/<doc>                      the latest version
"""

from flask import Blueprint

bp = Blueprint("documents", __name__, template_folder="templates")
public_bp = Blueprint("documents_public", __name__)

# The modules that add routes to this package's blueprints: create_app imports them, so
# that importing any other module of the package never pulls in the views.
VIEW_MODULES = (
    "app.documents.action_pages",
    "app.documents.information_views",
    "app.documents.views",
)
