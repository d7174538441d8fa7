"""TikTok, through the TikTok API v2 (the Display API): each connected creator's profile counts
(``/v2/user/info/``) and recent videos (``/v2/video/list/``), with the creator's own OAuth tokens
kept in a token store and refreshed before they expire. A source of the one shape (DESIGN.md):
``SOURCE``, ``ENTITIES``, ``Config``, ``answers_as_of`` and ``extract``."""

from sources.tiktok.client import Config
from sources.tiktok.extract import ENTITIES, SOURCE, answers_as_of, extract

__all__ = ["ENTITIES", "SOURCE", "Config", "answers_as_of", "extract"]
