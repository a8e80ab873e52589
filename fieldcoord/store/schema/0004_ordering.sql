-- Alphabetical lists page through these indexes instead of sorting a whole table: the app sorts
-- by coalesce(title, '') COLLATE NOCASE, then id.
CREATE INDEX contact_by_name ON contact (coalesce(name, '') COLLATE NOCASE, id);
CREATE INDEX agency_by_name ON agency (coalesce(name, '') COLLATE NOCASE, id);
CREATE INDEX resource_by_name ON resource (coalesce(name, '') COLLATE NOCASE, id);

-- Search: a one- or two-letter query lists the titles that begin with it, in order.
CREATE INDEX search_doc_by_title ON search_doc (title COLLATE NOCASE);
