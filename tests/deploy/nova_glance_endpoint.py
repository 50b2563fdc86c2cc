"""Print the image endpoint current Nova would use with the [glance] section of a nova.conf.

usage: nova_glance_endpoint.py NOVA_CONF   (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD,
       OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME: the user whose request
       Nova serves; Nova reuses that user's token and catalog)

Reads the section as Nova does (nova.utils.get_ksa_adapter: keystoneauth's adapter options
registered on [glance], then load_adapter_from_conf_options), with a password session standing
in for the user's token. api_servers, which Nova reads before the adapter, is printed as is.
"""
import os
import sys

from keystoneauth1 import loading
from keystoneauth1.identity import v3
from oslo_config import cfg


def main(path):
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.ListOpt("api_servers")], group="glance")
    loading.register_adapter_conf_options(conf, "glance")
    # Nova's defaults for the image service (nova.conf.glance).
    conf.set_default("service_type", "image", group="glance")
    conf.set_default("valid_interfaces", ["internal", "public"], group="glance")
    conf(["--config-file", path], project="nova", default_config_files=[])
    if conf.glance.api_servers:
        print(",".join(conf.glance.api_servers))
        return 0
    auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
                       password=os.environ["OS_PASSWORD"],
                       project_name=os.environ["OS_PROJECT_NAME"],
                       user_domain_name=os.environ["OS_USER_DOMAIN_NAME"],
                       project_domain_name=os.environ["OS_PROJECT_DOMAIN_NAME"])
    session = loading.session.Session().load_from_options(auth=auth)
    adapter = loading.load_adapter_from_conf_options(conf, "glance", session=session, auth=auth)
    print(adapter.get_endpoint())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
