"""The measuring stage: facts about real files written in the tests, against truth from
rasterio, pyproj and shapely."""
