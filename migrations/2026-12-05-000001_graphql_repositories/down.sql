UPDATE repositories SET has_downloads = coalesce(has_downloads, false),
    has_pages = coalesce(has_pages, false),
    open_issues_count = coalesce(open_issues_count, 0);
ALTER TABLE repositories
    ALTER COLUMN has_downloads SET DEFAULT false,
    ALTER COLUMN has_downloads SET NOT NULL,
    ALTER COLUMN has_pages SET DEFAULT false,
    ALTER COLUMN has_pages SET NOT NULL,
    ALTER COLUMN open_issues_count SET DEFAULT 0,
    ALTER COLUMN open_issues_count SET NOT NULL;
