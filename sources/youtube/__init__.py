"""YouTube, through the YouTube Data API v3: public channel counts (``channels.list``), the
recent uploads of each channel (``playlistItems.list``) and their statistics (``videos.list``),
with an API key and a daily quota. A source of the one shape (DESIGN.md): ``SOURCE``,
``ENTITIES``, ``Config``, ``answers_as_of`` and ``extract``."""

from sources.youtube.client import Config
from sources.youtube.extract import ENTITIES, SOURCE, answers_as_of, extract

__all__ = ["ENTITIES", "SOURCE", "Config", "answers_as_of", "extract"]
