"""``/v2/tenants``: a refusal that lets ``openstack image add project`` work without Keystone.

With ``--os-auth-type none --os-endpoint <glance>`` every service of
python-openstackclient points at glance-api, so its project lookup
(``GET /v2/tenants/<name>``) arrives here.  openstackclient takes a 403 as
"cannot look it up" and uses the name as the project id; a 404 would abort
the command.  Under keystone the lookup goes to Keystone and never here.
"""
from flask import Blueprint

from glance.api import context
from glance.context import NOAUTH
from glance.errors import Forbidden, NotFound

bp = Blueprint("v2_identity", __name__)


@bp.route("/v2/tenants", methods=["GET"])
@bp.route("/v2/tenants/<path:rest>", methods=["GET"])
def tenants(rest=None):
    if context.conf().auth_strategy != NOAUTH:
        raise NotFound("This is the Image service; projects are listed by Keystone")
    raise Forbidden("This is the Image service (noauth): it has no project list; "
                    "project ids are used as given")
