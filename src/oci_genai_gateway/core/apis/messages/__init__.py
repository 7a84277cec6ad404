"""apis/messages"""
