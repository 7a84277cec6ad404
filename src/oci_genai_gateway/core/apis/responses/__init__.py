"""apis/responses"""
