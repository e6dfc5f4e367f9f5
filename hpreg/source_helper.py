"""hpman compatibility: ``SourceHelper`` formats source lines around a line."""

from hpreg.io import source as _source


class SourceHelper:
    """Formats lines of one source with a ``==>`` marker (hpman's helper)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.split("\n")

    @classmethod
    def from_file(cls, path: str) -> "SourceHelper":
        return cls(_source.source_text(path))

    def format_lines(self, from_line, to_line, lineno, *, indent_spaces=0) -> str:
        return _source.format_lines(
            self.lines, lineno, lineno - from_line, to_line - lineno, indent_spaces
        )

    def format_line_with_context(self, lineno, before=5, after=5, **kwargs) -> str:
        return _source.format_lines(
            self.lines, lineno, before, after, kwargs.get("indent_spaces", 0)
        )

    def format_given_filename_and_lineno(self, filename, lineno, **kwargs) -> str:
        return "{}:{}\n{}".format(
            filename, lineno, self.format_line_with_context(lineno, **kwargs)
        )

    @classmethod
    def format_given_source_and_lineno(cls, source, lineno, **kwargs) -> str:
        return cls(source).format_line_with_context(lineno, **kwargs)

    @classmethod
    def format_given_filename_and_source_and_lineno(
        cls, filename, source, lineno, **kwargs
    ) -> str:
        return cls(source).format_given_filename_and_lineno(filename, lineno, **kwargs)

    @classmethod
    def format_given_filepath_and_lineno(cls, path, lineno, **kwargs) -> str:
        return cls.from_file(path).format_given_filename_and_lineno(
            path, lineno or 1, **kwargs
        )


__all__ = ["SourceHelper"]
