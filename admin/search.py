"""List search that an index can answer: a term matches the beginning of a column, not any part of it."""

from flask_babel import gettext as _
from sqlalchemy import and_, or_

from app.extensions import db

# sorts after every character a name or code can hold: [term, term + this) is "starts with term"
LAST_CHARACTER = "\U0010ffff"


def starts_with(column, term: str):
    """`column` begins with `term`, in a form the database's b-tree index serves.

    SQLite compares text byte by byte (BINARY), so a range on the plain index is exact.
    PostgreSQL's range would follow the database's collation; LIKE 'term%' with the escaped
    term is served by the text_pattern_ops index declared next to the plain one.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped + "%", escape="\\")
    return and_(column >= term, column < term + LAST_CHARACTER)


class PrefixSearchMixin:
    """Flask-Admin search on big tables: every word must start one of the searchable columns.

    Flask-Admin's own search is `lower(col) LIKE '%word%'`, a full scan of the table for the
    page and again for the count (≈ 100 ms each over 296,166 residents on SQLite); names are
    looked up by their beginning anyway (张伟, 张).
    """

    def _apply_search(self, query, count_query, joins, count_joins, search):
        for term in search.split():
            conditions = [starts_with(field, term) for field, _path in self._search_fields]
            query = query.filter(or_(*conditions))
            if count_query is not None:
                count_query = count_query.filter(or_(*conditions))
        return query, count_query, joins, count_joins

    def search_placeholder(self):
        columns = ", ".join(
            str(self.column_labels.get(field.key, field.key)) for field, _path in self._search_fields
        )
        return _("Starts with: %(columns)s", columns=columns)
