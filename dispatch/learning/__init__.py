"""Smart dispatch (智能分拨): a model of the city's own history, policies on the dispatch floor.

`training` reads history and fits; `store` keeps the model file and loads it once per process;
`suggest` turns free text and a place into categories, confidences, words and departments.
"""
