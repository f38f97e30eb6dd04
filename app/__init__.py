"""zhaocuo: the service behind 我为政府网站找错."""
