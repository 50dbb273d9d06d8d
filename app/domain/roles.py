"""Who takes part in what: the groupings of roles the application uses, named once.

Single-role checks (`actor.role == "agency"`) stay where they are read; a group of two or
more roles is declared here and imported, so that a role added to a group changes every
page, report and API answer that depends on it.
"""

from __future__ import annotations

from app.domain.vocab import Role

# Everyone with work in the process: a work queue, reports (the administrator configures).
PROCESS_ROLES = frozenset({Role.MANUFACTURER, Role.AGENCY, Role.ASSESSOR, Role.IRCCS})

# Those who work on requests up to the recommendation: file, check and prioritise, assess.
REQUEST_ROLES = frozenset({Role.MANUFACTURER, Role.AGENCY, Role.ASSESSOR})

# Those who follow the IRCCS adoption records and their usage figures.
ADOPTION_RECORD_ROLES = frozenset({Role.IRCCS, Role.AGENCY})

# Those who see only the requests they are a party to, while report figures that name no
# request cover every request.
PARTY_SCOPED_ROLES = frozenset({Role.MANUFACTURER, Role.ASSESSOR})

# Those who deal with the regional HTA body a request is assigned to.
REGIONAL_BODY_ROLES = frozenset({Role.AGENCY, Role.ASSESSOR})

# Those who post unmet clinical needs: the IRCCS where needs emerge, and the regional bodies.
NEED_POSTING_ROLES = frozenset({Role.IRCCS, Role.ASSESSOR})
