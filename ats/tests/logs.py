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
    """Every log line, formatted by the production formatter of `log_format` (with the
    request-context filter), while the block runs; loggers get the levels that the LOGGING
    setting gives them with `LOG_LEVEL=<level>`."""
    config = logging_config(log_format=log_format, level=logging.getLevelName(level))
    configurator = logging.config.DictConfigurator(config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(config["formatters"][log_format]))
    handler.addFilter(RequestContextFilter())
    levels = {"": config["root"]["level"]} | {
        name: logger["level"] for name, logger in config["loggers"].items()
    }
    saved = []
    for name, logger_level in levels.items():
        logger = logging.getLogger(name or None)
        saved.append((logger, logger.level))
        logger.setLevel(logger_level)
        if name == "" or "handlers" in config["loggers"].get(name, {}):
            logger.addHandler(handler)
    try:
        yield stream
    finally:
        for logger, old_level in saved:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
