CREATE OR REPLACE FUNCTION gitomatic_search_vector(VARIADIC text[]) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN pg_catalog.to_tsvector('pg_catalog.simple'::regconfig,
        public.gitomatic_search_words(pg_catalog.array_to_string($1, ' ')));
END $$;

CREATE OR REPLACE FUNCTION gitomatic_search_query(text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (
    SELECT pg_catalog.to_tsquery('pg_catalog.simple'::regconfig,
                                 pg_catalog.string_agg(word || ':*', ' & '))
    FROM pg_catalog.regexp_split_to_table(public.gitomatic_search_words($1), ' ') AS word
    WHERE word <> ''
);

UPDATE developers SET search = gitomatic_search_vector(login, name, bio, company, location);
UPDATE repositories SET search = gitomatic_search_vector(full_name, description, language);
