"""GDPR erasure of one person: records, links, actor rows, outputs, and a log without personal data."""
