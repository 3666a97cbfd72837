"""Writes to portfolios, one module per subject: enrolments, evidence, files."""
