"""``TrainingInput``: a channel's data and how it is delivered (SageMaker's ``sagemaker.inputs``)."""

from __future__ import annotations


class TrainingInput:
    """One channel: a folder, a file or a ``.tar.gz``, by path or ``file://`` URI.

    >>> TrainingInput("file:///data/train", content_type="text/csv").config["ContentType"]
    'text/csv'
    """

    def __init__(self, s3_data: str, distribution: str | None = None, compression: str | None = None,
                 content_type: str | None = None, record_wrapping: str | None = None,
                 s3_data_type: str = "S3Prefix", input_mode: str | None = None, **_ignored):
        self.uri = str(s3_data)
        self.content_type = content_type
        self.input_mode = input_mode or "File"
        self.config = {"DataSource": {"S3DataSource": {"S3Uri": self.uri, "S3DataType": s3_data_type,
                                                       "S3DataDistributionType": distribution or "FullyReplicated"}}}
        if content_type:
            self.config["ContentType"] = content_type
        if compression:
            self.config["CompressionType"] = compression
        self.config["InputMode"] = self.input_mode


# SageMaker v1 spelling.
s3_input = TrainingInput
