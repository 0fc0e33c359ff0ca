-- GitHub's GraphQL API has no field for has_downloads or has_pages, and open_issues_count
-- needs nested connections that cost 100 times a batch query: a repository first seen in a
-- GraphQL batch does not know them (NULL, not a default) until a REST payload lists it.
ALTER TABLE repositories
    ALTER COLUMN has_downloads DROP NOT NULL,
    ALTER COLUMN has_downloads DROP DEFAULT,
    ALTER COLUMN has_pages DROP NOT NULL,
    ALTER COLUMN has_pages DROP DEFAULT,
    ALTER COLUMN open_issues_count DROP NOT NULL,
    ALTER COLUMN open_issues_count DROP DEFAULT;
