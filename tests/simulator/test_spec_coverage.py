"""Every row of the spec's API list is served by the simulator."""

from locks.simulator import api
from locks.simulator.kinds import APPLICABLE
from tests.conftest import spec_api_rows as spec_rows


def test_the_spec_lists_63_endpoints():
    assert len(spec_rows()) == 63


def test_every_spec_endpoint_has_a_route():
    served = {(route.method, route.template) for route in api.ROUTES}
    assert [row for row in spec_rows() if row not in served] == []


def test_every_device_route_declares_the_lock_kinds_it_applies_to():
    device_routes = {route.name for route in api.ROUTES if "{device_id}" in route.template}
    assert sorted(device_routes - set(APPLICABLE) - {"device_details"}) == []
