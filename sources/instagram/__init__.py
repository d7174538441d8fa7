"""Instagram, through the Graph API: public counts and media of business and creator accounts
(``business_discovery``), and audience demographics (``insights``) of creators who connected
their account. A source of the one shape (DESIGN.md): ``SOURCE``, ``ENTITIES``, ``Config``,
``answers_as_of`` and ``extract``."""

from sources.instagram.client import Config
from sources.instagram.extract import ENTITIES, SOURCE, answers_as_of, extract

__all__ = ["ENTITIES", "SOURCE", "Config", "answers_as_of", "extract"]
