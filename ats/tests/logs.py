"""Capturing log output in tests exactly as the configured handler writes it."""

from __future__ import annotations

import io
import logging
import logging.config
from collections.abc import Iterator
from contextlib import contextmanager

from ats.logging import RequestContextFilter, logging_config


@contextmanager
def captured_logs(log_format: str, level: int = logging.INFO) -> Iterator[io.StringIO]:
    """Every log line of every logger, formatted by the production formatter of `log_format`
    (with the request-context filter), while the block runs."""
    config = logging_config(log_format=log_format, level="INFO")
    configurator = logging.config.DictConfigurator(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"][log_format]))
    handler.addFilter(RequestContextFilter())
    handler.setLevel(level)
    loggers = [logging.getLogger(), logging.getLogger("django")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(level)
    try:
        yield stream
    finally:
        for logger, old_level in saved:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
