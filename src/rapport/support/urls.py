

urlpatterns: list = [
]
