"""The government API gateway protocol (政务数据共享网关), DESIGN §8: signing, envelope, client."""
