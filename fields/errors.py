"""Bad field input: the message names the file, the feature and the reason."""


class FieldError(Exception):
    """A boundary file or feature that cannot be used as a field."""
