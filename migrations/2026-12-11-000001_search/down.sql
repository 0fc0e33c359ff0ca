DROP TRIGGER developers_search ON developers;
DROP TRIGGER repositories_search ON repositories;
DROP FUNCTION developers_search(), repositories_search();
ALTER TABLE developers DROP COLUMN search;
ALTER TABLE repositories DROP COLUMN search;
DROP FUNCTION gitomatic_search_query(text), gitomatic_search_vector(text[]),
    gitomatic_search_words(text);
DROP EXTENSION IF EXISTS unaccent;
