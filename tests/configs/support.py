"""What the configuration tests share: templates as test data."""

from app.configs import rules
from app.configs.tables import ConfigTemplate


def add_template(session, name, body, *, channel_id=None, enterprise_id=None, models=""):
    """A saved template (committed), as the screens would save it."""
    assert not rules.validate_template(body), rules.validate_template(body)
    template = ConfigTemplate(name=name, body=rules.normalized_body(body), model_filter=models,
                              channel_id=channel_id, enterprise_id=enterprise_id,
                              created_by="tester")
    session.add(template)
    session.commit()
    return template
