"""Data quality: the invoice rule catalogue's measured detection, validation and reports."""
